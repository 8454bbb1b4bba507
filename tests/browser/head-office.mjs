// Acceptance 1 of issue #5: the head-office pages in headless Chromium against the real server
// with the demo's seeded data (and its fraud cases) plus a tampered photo.
//
// Env: BASE_URL, FP_USER, FP_PASSWORD, EXPECT_CODES (comma-separated exception codes seeded),
// CHROMIUM (default /usr/bin/chromium), ARTIFACTS (default ./artifacts), EN_CATALOGUE (the en
// catalogue's fragments, JSON), REFERENCE_JSON (the reference data the demo loaded), TILES_URL
// (the local tile server the server's --map-tiles points at, tiles.mjs).
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const base = process.env.BASE_URL;
const user = process.env.FP_USER;
const password = process.env.FP_PASSWORD;
const expected = (process.env.EXPECT_CODES || '').split(',').filter(Boolean);
const artifacts = process.env.ARTIFACTS || new URL('./artifacts', import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });
let step = 0;
const results = [];
function ok(name) {
  results.push(name);
  console.log(`ok ${results.length} - ${name}`);
}
function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}
async function shot(page, name) {
  step += 1;
  const file = join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Fragments of the English catalogue of coded messages (exception titles and sentences…):
// none may appear on a zh-CN page (`dump_en_catalogue` in sync-server/tests/web.rs).
const enFragments = JSON.parse(readFileSync(process.env.EN_CATALOGUE, 'utf8')).fragments;
check(enFragments.length > 100, `the en catalogue has fragments (${enFragments.length})`);
// The check templates' labels as head office wrote them (the demo loads this reference data).
const reference = JSON.parse(readFileSync(process.env.REFERENCE_JSON, 'utf8'));
const templateLabels = new Set(reference.templates.flatMap((t) => t.sections.flatMap((s) => s.items.map((i) => i.label))));
const sectionTitles = new Set(reference.templates.flatMap((t) => t.sections.map((s) => s.title)));

/** What a person must never read outside a page's technical sections. */
function contentProblems(text, lang) {
  const found = [];
  const uuid = text.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
  if (uuid) found.push(`UUID ${uuid[0]}`);
  const hex = text.match(/(?<![0-9a-z])[0-9a-f]{16,}(?![0-9a-z])/i);
  if (hex) found.push(`hex hash ${hex[0]}`);
  const snake = text.match(/(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])/);
  if (snake) found.push(`key ${snake[0]}`);
  if (lang === 'zh-CN') {
    const en = enFragments.find((f) => text.includes(f));
    if (en) found.push(`English catalogue text "${en}"`);
  }
  return found;
}

/** One member of a zip archive (stored or deflated), by name; null if absent. */
function unzipEntry(buf, wanted) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  if (eocd < 0) return null;
  let at = buf.readUInt32LE(eocd + 16);
  const count = buf.readUInt16LE(eocd + 10);
  for (let i = 0; i < count; i += 1) {
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
    if (name === wanted) {
      const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
      const data = buf.subarray(start, start + size);
      return (method === 0 ? data : inflateRawSync(data)).toString('utf8');
    }
    at += 46 + nameLen + extraLen + commentLen;
  }
  return null;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=en-US'],
});
try {
  const context = await browser.newContext({
    acceptDownloads: true,
    locale: 'en-US',
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);

  // 1. Sign in (a wrong password first).
  await page.goto(`${base}/app/exceptions?status=all`);
  check(page.url().includes('/app/login'), `redirected to sign-in, at ${page.url()}`);
  await page.fill('#user', user);
  await page.fill('#password', 'not-the-password');
  await page.click('#sign-in');
  check(await page.isVisible('#login-error'), 'a wrong password is refused');
  await shot(page, 'sign-in-refused');
  await page.fill('#user', user);
  await page.fill('#password', password);
  await page.click('#sign-in');
  await page.waitForURL(/\/app\/exceptions/);
  ok('sign in');

  // 2. The exception queue lists every seeded case.
  const codes = await page.$$eval('#exceptions tr[data-code]', (rows) => rows.map((r) => r.dataset.code));
  for (const c of expected) check(codes.includes(c), `queue lists ${c} (has ${[...new Set(codes)].join(',')})`);
  await shot(page, 'exceptions-queue');
  ok(`exception queue lists ${expected.join(', ')}`);

  // 3. The tampered photo's visit shows the tampered badge.
  const tampered = process.env.TAMPERED_VISIT;
  await page.goto(`${base}/app/visits/${encodeURIComponent(tampered)}`);
  await page.waitForSelector('[data-badge="tampered"]');
  const badgeText = await page.textContent('[data-badge="tampered"]');
  check(badgeText.trim() === 'tampered', `badge says ${badgeText}`);
  check((await page.$$('[data-badge="verified"]')).length >= 1, 'the honest photo is verified beside it');
  await page.locator('[data-badge="tampered"]').first().scrollIntoViewIfNeeded();
  await shot(page, 'visit-tampered-photo');
  ok('tampered badge on the visit page');

  // 3b. Revoked phones (`seed_revoked_phones`): the photo that arrived before its phone was
  // revoked stays verified and says so; the one sent after the time the key counts as revoked
  // from is `revoked_key`. Both pages offer the evidence bundle.
  const revokedPages = [
    ['visit-revoked-later', process.env.REVOKED_LATER_VISIT, 'verified_revoked_later', '已验证（设备密钥后来被吊销）'],
    ['visit-revoked-key', process.env.REVOKED_KEY_VISIT, 'revoked_key', '密钥已吊销'],
  ];
  for (const [, visit, badge, words] of revokedPages) {
    check(visit, `a seeded ${badge} visit`);
    await page.goto(`${base}/app/visits/${encodeURIComponent(visit)}?lang=zh-CN`);
    const text = await page.textContent(`[data-badge="${badge}"]`);
    check(text && text.trim() === words, `the ${badge} badge says ${text}`);
    const link = await page.getAttribute('a[href^="/app/evidence.zip?visit="]', 'href');
    check(link === `/app/evidence.zip?visit=${encodeURIComponent(visit)}`, `the visit page links its bundle (${link})`);
  }
  // Back to English: `?lang=` is remembered (a cookie), and the steps below start in English.
  await page.goto(`${base}/app/exceptions?lang=en`);
  ok('revoked phones: "verified, key revoked later" and "key revoked" badges, each with the bundle link');

  // 4. Resolve an exception with a comment; who and when are shown.
  await page.goto(`${base}/app/exceptions?status=open&code=mock_location`);
  const before = await page.$$eval('#exceptions tr[data-code]', (r) => r.length);
  check(before >= 1, 'an open mock_location exception');
  const row = page.locator('#exceptions tr[data-code="mock_location"]').first();
  const rowId = await row.getAttribute('id');
  await row.locator('input[name="comment"]').fill('Called the rep: GPS spoofing app removed, warned in writing.');
  await row.locator('form.resolve button[value="resolve"]').click();
  await page.waitForLoadState('load');
  await page.goto(`${base}/app/exceptions?status=resolved&code=mock_location`);
  const resolvedRow = page.locator(`#${rowId}`);
  const text = await resolvedRow.textContent();
  // Who: the web user's name (run.sh creates ho-admin as "Head Office 总部"), never an id.
  check(text.includes('GPS spoofing app removed') && text.includes('Head Office'), `resolved row shows comment and who: ${text}`);
  check(await resolvedRow.locator('.state.st-resolved').count() >= 1, 'the resolved row shows its state');
  await shot(page, 'exception-resolved');
  ok('resolve an exception (who, when, comment recorded)');

  // 5. Switch language: a known zh-CN string, then back.
  await page.goto(`${base}/app/exceptions?status=all`);
  await page.click('#lang-switch');
  await page.waitForURL(/lang=zh-CN/);
  const h1 = await page.textContent('h1');
  check(h1.includes('异常队列'), `zh-CN title, got ${h1}`);
  check((await page.content()).includes('虚拟定位'), 'exception codes in Chinese');
  await shot(page, 'exceptions-zh-CN');
  await page.goto(`${base}/app/health`);
  check((await page.content()).includes('关键动作完成率'), 'the language stays (cookie)');
  await shot(page, 'health-zh-CN');
  await page.goto(`${base}/app/gallery?lang=en`);
  await shot(page, 'gallery');
  ok('switch language');

  // 6. Download the XLSX export from the day's page: a zip with the expected sheets.
  await page.goto(`${base}/app`);
  await shot(page, 'today');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-xlsx')]);
  const file = join(artifacts, 'export.xlsx');
  await download.saveAs(file);
  const bytes = readFileSync(file);
  check(bytes[0] === 0x50 && bytes[1] === 0x4b, 'the export is a zip');
  const workbook = unzipEntry(bytes, 'xl/workbook.xml');
  check(workbook, 'the zip has xl/workbook.xml');
  const sheets = [...workbook.matchAll(/<sheet [^>]*name="([^"]+)"/g)].map((m) => m[1]);
  for (const sheet of ['Visits', 'Answers', 'Exceptions', 'Photos']) {
    check(sheets.includes(sheet), `workbook has sheet ${sheet} (has ${sheets.join(', ')})`);
  }
  ok('download the XLSX export (zip with sheets Visits, Answers, Exceptions, Photos)');

  // 6b. The day navigator: /app opens on a day with visits (today, or the latest day with any),
  // previous / next move a day, the date picker shows the chosen day.
  await page.goto(`${base}/app?lang=en`);
  const shownDay = await page.inputValue('nav.daynav input[type="date"]');
  check((await page.$$('main table.rows tbody tr')).length > 0, `the default day ${shownDay} has visits`);
  await page.click('nav.daynav a.day-prev');
  const prevDay = await page.inputValue('nav.daynav input[type="date"]');
  check(new Date(shownDay) - new Date(prevDay) === 86400000, `previous day of ${shownDay} is ${prevDay}`);
  await page.click('nav.daynav a.day-next');
  check((await page.inputValue('nav.daynav input[type="date"]')) === shownDay, 'next day goes back');
  await page.fill('nav.daynav input[type="date"]', prevDay);
  await page.click('nav.daynav form button');
  check(page.url().includes(`date=${prevDay}`), `the picker's form asks for ${prevDay}: ${page.url()}`);
  ok(`day navigator: opens on ${shownDay} (a day with visits), previous / next / pick`);

  // 6c. Photo review with retakes: ask for a retake on a visit's page (a reason is required),
  // see it open there and on the retake list; the demo's retake done on the next visit shows
  // the old and the new photo side by side.
  await page.goto(`${base}/app/visits/${encodeURIComponent(tampered)}?lang=zh-CN`);
  const reviewForm = page.locator('form.review').first();
  await reviewForm.locator('select[name="verdict"]').selectOption('retake');
  await reviewForm.locator('button').click();
  await page.waitForLoadState('load');
  check((await page.content()).includes('须填写原因'), 'a retake without a reason is refused in words');
  await page.goto(`${base}/app/visits/${encodeURIComponent(tampered)}?lang=zh-CN`);
  await reviewForm.locator('select[name="verdict"]').selectOption('retake');
  await reviewForm.locator('input[name="reason"]').fill('货架最下层没拍到，请重拍');
  await reviewForm.locator('button').click();
  await page.waitForURL(new RegExp(`/app/visits/${tampered}`));
  check(await page.locator('#retakes .retake[data-state="open"]').count() === 1, 'the visit shows the open retake');
  check((await page.textContent('main')).includes('货架最下层没拍到'), 'with its reason');
  await page.goto(`${base}/app/retakes?lang=zh-CN`);
  check((await page.textContent('main')).includes('货架最下层没拍到'), 'the retake list has it');
  await page.goto(`${base}/app/retakes?state=done&lang=en`);
  const doneRetake = page.locator('.retake[data-state="done"]').first();
  check(await doneRetake.count() === 1, 'the demo\'s retake is done');
  check(await doneRetake.locator('.pair img.thumb').count() === 2, 'old and new photo side by side');
  const retakeVisitHref = await doneRetake.locator('a.visit-link').getAttribute('href');
  await page.goto(`${base}${retakeVisitHref}?lang=en`);
  check(await page.locator('#retakes .retake[data-state="done"] .pair img.thumb').count() === 2, 'the visit page shows both photos');
  await shot(page, 'visit-retake-done');
  ok('ask for a retake in the browser; open and done retakes on the visit page and the list');

  // 6d. Alerts (issue #12): a WeCom channel and a rule created through the forms (the robot's
  // key shown masked), a refused rule, a test message queued and tried by the worker against a
  // robot that cannot be reached: its error in words on the page.
  await page.goto(`${base}/app/alerts?lang=en`);
  await page.selectOption('#new-channel select[name="kind"]', 'wecom');
  await page.fill('#new-channel input[name="name"]', '华东督导群');
  await page.selectOption('#new-channel select[name="lang"]', 'zh-CN');
  await page.fill('#new-channel input[name="webhook_url"]', 'http://127.0.0.1:9/cgi-bin/webhook/send?key=browser-test-key-7788');
  await page.click('#new-channel button');
  await page.waitForURL(/done=saved/);
  const target = await page.textContent('#channel-list td.long');
  check(target.includes('••••7788') && !target.includes('browser-test-key'), `the robot's key is masked: ${target}`);
  await page.fill('#new-rule input[name="name"]', 'Fake GPS and geofence');
  await page.check('#new-rule input[name="codes"][value="mock_location"]');
  await page.check('#new-rule input[name="codes"][value="outside_geofence"]');
  await page.selectOption('#new-rule select[name="min_severity"]', '2');
  await page.fill('#new-rule input[name="quiet_from"]', '22:00');
  await page.fill('#new-rule input[name="quiet_to"]', '07:00');
  await page.click('#new-rule button');
  await page.waitForURL(/done=saved/);
  const ruleRow = await page.textContent('#rule-list tbody tr');
  check(ruleRow.includes('22:00–07:00') && ruleRow.includes('Mock location'), `the rule is listed: ${ruleRow}`);
  await page.fill('#new-rule input[name="name"]', 'Half a quiet time');
  await page.fill('#new-rule input[name="quiet_from"]', '22:00');
  await page.fill('#new-rule input[name="quiet_to"]', '');
  await page.click('#new-rule button');
  check((await page.textContent('#refusal')).includes('Quiet hours'), 'a rule with half its quiet hours is refused in words');
  check((await page.$$('#rule-list tbody tr')).length === 1, 'the refused rule changed nothing');
  await page.goto(`${base}/app/alerts?lang=en`);
  await page.click('#channel-list form[action$="/test"] button');
  await page.waitForURL(/done=test/);
  // The worker looks every 2 s: reload (a same-URL goto with a #fragment would not) until tried.
  await page.goto(`${base}/app/alerts?lang=en`);
  let lastError = await page.$('#message-list .last-error');
  for (let i = 0; i < 60 && !lastError; i += 1) {
    await page.waitForTimeout(500);
    await page.reload();
    lastError = await page.$('#message-list .last-error');
  }
  check(lastError, 'the test message was tried and its error is shown');
  check((await lastError.textContent()).includes('Could not reach the receiver'), 'the error is in words');
  ok('alerts: a channel (key masked) and a rule through the forms, a refused rule, a test message tried with its error in words');

  // 7. Every page at a desktop width and a phone's (390 px), in both languages: nothing wider
  // than the screen, the resolve button and the header's controls on screen, table cells wide
  // enough that a store's name does not stand one character per line.
  await page.goto(`${base}/app/visits/${encodeURIComponent(tampered)}?lang=en`);
  const day = ((await page.textContent('main dl')).match(/\d{4}-\d{2}-\d{2}/) || [])[0];
  check(day, 'the tampered visit shows its day');
  await page.goto(`${base}/app/devices?lang=en`);
  const revokeHref = await page.getAttribute('a.revoke', 'href');
  check(revokeHref, 'the devices page links a device to revoke');
  // The customer with stage moves, follow-ups and health (seed_browser_states).
  await page.goto(`${base}/app/customers?warning=1&lang=en`);
  const customerHref = await page.getAttribute('#customers td.name a', 'href');
  check(customerHref && customerHref.startsWith('/app/customers/'), `the customers page links a customer (${customerHref})`);
  const pages = [
    ['today', `/app?date=${day}`],
    ['today-default', '/app'],
    ['today-paged', `/app?date=${day}&rep_page=2&store_page=9`],
    ['exceptions', '/app/exceptions?status=all'],
    ['exceptions-open', '/app/exceptions'],
    ['exceptions-filtered', '/app/exceptions?status=all&code=possible_reuse&sort=store&dir=asc&pick=all'],
    ['exceptions-paged', '/app/exceptions?status=all&per_page=5&page=2'],
    ['visit', `/app/visits/${encodeURIComponent(tampered)}`],
    ...revokedPages.map(([name, visit]) => [name, `/app/visits/${encodeURIComponent(visit)}`]),
    ['gallery', `/app/gallery?date=${day}`],
    ['map', `/app/map?date=${day}`],
    ['health', `/app/health?date=${day}`],
    ['health-paged', `/app/health?date=${day}&page=2`],
    ['data', '/app/data'],
    // Evidence bundles (issue 16): the form, and a selection refused with its reason.
    ['evidence', '/app/evidence'],
    ['evidence-refused', '/app/evidence.zip?from=2020-01-01&to=2020-01-02'],
    ['bad-query', '/app/gallery?page=0'],
    ['not-found', '/app/visits/no-such-visit'],
    ['people', '/app/people?active=all'],
    ['person', '/app/people/rep-li'],
    ['accounts', '/app/accounts'],
    ['account', '/app/accounts/ho-admin'],
    ['structure', '/app/structure'],
    ['devices', '/app/devices'],
    ['revoke-confirm', revokeHref],
    ['password', '/app/password'],
    // Planned versus done, ranking, a rep's and a store's pages (issue 12).
    ['plan', `/app/plan?date=${day}`],
    ['plan-period', `/app/plan?from=${day}&to=${day}`],
    ['ranking', `/app/ranking?date=${day}`],
    ['ranking-sorted', `/app/ranking?date=${day}&sort=exceptions&dir=desc`],
    ['rep', `/app/reps/rep-li?date=${day}`],
    ['store', '/app/stores/st-001'],
    ['plan-bad-period', '/app/plan?from=2026-10-10&to=2026-10-01'],
    ['retakes', '/app/retakes?state=all'],
    ['retakes-waiting', '/app/retakes'],
    ['visit-retake-done', retakeVisitHref],

    ['alerts', '/app/alerts'],
    ['alerts-pending', '/app/alerts?state=pending'],
    ['alert-channel', '/app/alerts/channels/1'],
    ['alert-rule', '/app/alerts/rules/1'],
    // Customers and leads (issue 15), from tests/data/pipeline-*.csv and seed_browser_states.
    ['leads', '/app/leads'],
    ['leads-overdue', '/app/leads?tab=overdue'],
    ['leads-all', '/app/leads?tab=all'],
    ['pipeline', '/app/pipeline'],
    ['customers', '/app/customers'],
    ['customers-warnings', '/app/customers?warning=1'],
    ['customer', customerHref],
    ['pool', '/app/pool'],
    ['store-code', '/app/stores/st-001/code'],
    ['store-no-code', '/app/stores/st-002/code'],
    ['routing', '/app/routing'],
    ['pipeline-settings', '/app/pipeline-settings'],
  ];
  let visited = 0;
  for (const lang of ['zh-CN', 'en']) {
    for (const width of [1366, 390]) {
      await page.setViewportSize({ width, height: 900 });
      for (const [name, path] of pages) {
        const sep = path.includes('?') ? '&' : '?';
        await page.goto(`${base}${path}${sep}lang=${lang}`);
        const m = await page.evaluate(() => {
          const inView = (sel) => {
            const el = document.querySelector(sel);
            if (!el) return null;
            const r = el.getBoundingClientRect();
            return r.left >= 0 && r.right <= window.innerWidth;
          };
          // A cell squeezed so narrow that its text stands a character or two per line.
          const squeezed = [...document.querySelectorAll('main td, main th')].filter((cell) => {
            const text = cell.textContent.trim();
            if (text.length < 4 || cell.getBoundingClientRect().width === 0) return false;
            const range = document.createRange();
            range.selectNodeContents(cell);
            const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
            return lines >= 3 && text.length / lines < 3;
          }).length;
          return {
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            lang: document.documentElement.lang,
            resolveInView: inView('form.resolve button'),
            bulkInView: inView('form.bulk button'),
            signOutInView: inView('#sign-out'),
            switchInView: inView('#lang-switch'),
            bundleInView: inView('a[href^="/app/evidence.zip"]'),
            squeezed,
          };
        });
        const where = `${name} ${lang} ${width}px`;
        check(m.lang === lang, `${where}: page language ${m.lang}`);
        check(m.scrollWidth <= m.innerWidth, `${where}: ${m.scrollWidth} px wide in a ${m.innerWidth} px window`);
        check(m.signOutInView !== false && m.switchInView !== false, `${where}: header controls on screen`);
        check(m.resolveInView !== false, `${where}: the resolve button is on screen`);
        check(m.bulkInView !== false, `${where}: the bulk actions are on screen`);
        check(m.bundleInView !== false, `${where}: the evidence bundle's link is on screen`);
        check(m.squeezed === 0, `${where}: ${m.squeezed} table cells squeezed to a character or two per line`);
        if (name.startsWith('exceptions') && width === 390) {
          check(m.resolveInView === true || name === 'exceptions', `${where}: an open exception to resolve`);
        }
        await shot(page, `${name}-${lang}-${width}`);
        // What a person reads: every folded section opened except the technical ones, which
        // are taken out (ids and hashes belong there only).
        const text = await page.evaluate(() => {
          for (const d of document.querySelectorAll('details')) d.open = true;
          for (const d of document.querySelectorAll('details.tech')) d.remove();
          return document.body.innerText;
        });
        const problems = contentProblems(text, lang);
        check(problems.length === 0, `${where}: ${problems.join('; ')} (outside the technical sections)`);
        if (name === 'visit') {
          // The answers by the template's sections, each item by its label.
          const items = await page.$$eval('table.answers td:first-child', (cells) => cells.map((c) => c.innerText.trim()));
          check(items.length >= 3, `${where}: answers shown (${items.length})`);
          for (const item of items) check(templateLabels.has(item), `${where}: answer item "${item}" is a template label`);
          const titles = await page.$$eval('main h3', (hs) => hs.map((h) => h.innerText.trim()));
          check(titles.some((t) => sectionTitles.has(t)), `${where}: section titles shown (${titles.join(', ')})`);
        }
        if (name === 'store-code') {
          const qr = await page.$eval('#store-code svg', (el) => el.getBoundingClientRect().width).catch(() => 0);
          check(qr >= 200 && qr <= width, `${where}: the QR code is drawn and fits (${qr} px)`);
        }
        if (name === 'store-no-code') check(await page.$('#no-store-key'), `${where}: says the store has no key`);
        if (name === 'leads') check(text.includes(lang === 'zh-CN' ? '剩余' : 'left'), `${where}: the deadline countdown`);
        if (name === 'customer') {
          check(text.includes(lang === 'zh-CN' ? '缺少' : 'Missing'), `${where}: the evidence flagged missing`);
        }
        visited += 1;
      }
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  ok(`${visited} page views at 1366 and 390 px in zh-CN and en: no horizontal overflow, actions on screen`);
  ok('no UUID, hex hash, key or (zh-CN) English catalogue text outside the technical sections; template labels on the visit page');

  // 7b. An enrolment code issued on a rep's page: shown big with its QR code, fitting a phone.
  for (const lang of ['zh-CN', 'en']) {
    for (const width of [1366, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${base}/app/people/rep-li?lang=${lang}`);
      await page.click('#issue-code button');
      await page.waitForSelector('#enrol-code');
      const m = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        code: document.querySelector('#enrol-code').textContent.trim(),
        qr: !!document.querySelector('#enrol-qr svg'),
      }));
      const where = `enrol-code ${lang} ${width}px`;
      check(/^[0-9A-Z]{4}(-[0-9A-Z]{4})+$/.test(m.code), `${where}: the code is shown (${m.code})`);
      check(m.qr, `${where}: the QR code is shown`);
      check(m.scrollWidth <= m.innerWidth, `${where}: ${m.scrollWidth} px wide in a ${m.innerWidth} px window`);
      await shot(page, `enrol-code-${lang}-${width}`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  ok('an enrolment code with its QR code on a rep\'s page at 1366 and 390 px in zh-CN and en');

  // 7c. The day's map over the local tile server: the tiles the page names were fetched from
  // it and are shown, only that host is allowed for images, the check-ins are links with
  // words, the marks are there, a point opens its visit.
  {
    const tilesUrl = process.env.TILES_URL;
    check(tilesUrl, 'TILES_URL is set');
    const resp = await page.goto(`${base}/app/map?date=${day}&lang=zh-CN`);
    const csp = resp.headers()['content-security-policy'];
    check(csp.includes(`img-src 'self' ${tilesUrl};`), `the map allows images from the tile server only: ${csp}`);
    const m = await page.evaluate(() => ({
      tiles: [...document.querySelectorAll('.map img.tile')].map((i) => ({
        tile: i.dataset.tile,
        src: i.getAttribute('src'),
        shown: i.complete && i.naturalWidth === 256 && i.getBoundingClientRect().width > 0,
      })),
      reps: [...new Set([...document.querySelectorAll('a.visit')].map((a) => a.dataset.rep))],
      points: document.querySelectorAll('a.visit').length,
      titled: [...document.querySelectorAll('a.visit')].every((a) => a.querySelector('title')?.textContent.includes(' · ')),
      marks: [...document.querySelectorAll('a.visit')].map((a) => a.dataset.marks).join(' '),
      listed: document.querySelectorAll('table.map-list tbody tr').length,
      legendReps: document.querySelectorAll('[data-legend-rep]').length,
    }));
    check(m.tiles.length >= 12, `the map shows tiles (${m.tiles.length})`);
    check(m.tiles.every((t) => t.shown), `every tile loaded and displayed: ${JSON.stringify(m.tiles.filter((t) => !t.shown))}`);
    check(m.tiles.every((t) => t.src === `${tilesUrl}/${t.tile}.png`), 'tile addresses follow the template');
    const requested = await (await fetch(`${tilesUrl}/requests`)).json();
    for (const t of m.tiles) check(requested.includes(t.tile), `the tile server was asked for ${t.tile}`);
    check(m.reps.length >= 3 && m.legendReps === m.reps.length, `three reps' routes with a legend (${m.reps.join(', ')})`);
    check(m.points >= 3 && m.listed === m.points, `${m.points} check-ins, ${m.listed} listed under the map`);
    check(m.titled, 'every check-in has a tooltip in words');
    for (const mark of ['outside', 'mock']) check(m.marks.split(' ').includes(mark), `a check-in marked ${mark} (${m.marks})`);
    await shot(page, 'map-tiles-zh-CN');
    await page.locator('a.visit').last().click();
    await page.waitForURL(/\/app\/visits\//);
    ok(`the day's map: ${m.tiles.length} tiles fetched from the local tile server and shown, ${m.points} check-ins of ${m.reps.length} reps, outside and mock marks, a point opens its visit`);
  }

  // 7f. Planned versus done lists the day's missed stops by store and rep; the ranking sorts
  // by a column's heading, best first, and the same heading turns the order round.
  await page.goto(`${base}/app/plan?date=${day}&lang=en`);
  const missedStops = await page.$$eval('#missed tr.missed-stop', (rows) => rows.map((r) => r.innerText));
  check(missedStops.length >= 1, `the plan page lists a missed stop on ${day}`);
  check(missedStops.every((t) => /[\u4e00-\u9fff]/.test(t)), `missed stops named by store and rep: ${missedStops.join(' | ')}`);
  await page.goto(`${base}/app/ranking?date=${day}&lang=en`);
  const sorted = async () => page.$$eval('#reps tbody tr', (rows) => rows.map((r) => Number(r.querySelector('[data-figure="visits"]').dataset.value)));
  await page.click('#reps th a.sort[href*="sort=visits"]');
  const desc = await sorted();
  check(desc.length >= 2 && desc.every((v, i) => i === 0 || desc[i - 1] >= v), `visits most first: ${desc}`);
  await page.click('#reps th a.sort[href*="sort=visits"]');
  const asc = await sorted();
  check(asc.every((v, i) => i === 0 || asc[i - 1] <= v), `visits fewest first: ${asc}`);
  await shot(page, 'ranking-by-visits');
  ok('plan page lists a missed stop; the ranking sorts by a column both ways');

  // 8. Sign out.
  await page.click('#sign-out');
  await page.waitForURL(/\/app\/login/);
  ok('sign out');
  for (const width of [1366, 390]) {
    await page.setViewportSize({ width, height: 900 });
    for (const lang of ['zh-CN', 'en']) {
      await page.goto(`${base}/app/login?lang=${lang}`);
      const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      check(w[0] <= w[1], `sign-in ${lang} ${width}px: ${w[0]} px wide in ${w[1]}`);
      await shot(page, `sign-in-${lang}-${width}`);
    }
  }
  ok('the sign-in page fits 1366 and 390 px in both languages');
  console.log(`# ${results.length} checks passed; screenshots in ${artifacts}`);
} catch (e) {
  console.error(`not ok - ${e.message}`);
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages.length) await shot(pages[pages.length - 1], 'failure');
  } catch {}
  process.exitCode = 1;
} finally {
  await browser.close();
}
