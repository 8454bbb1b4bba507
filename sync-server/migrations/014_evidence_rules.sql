-- fieldproof-server v14: evidence anyone can check (issue 16; docs/evidence-format.md).
--
-- - The receive order per device: every entry the server receives from a device, applied or
--   rejected (a repeated one is not received again), takes the device's next `recv_index`
--   (`devices.recv_count` is the last one given). Chain verification runs in this order, and
--   evidence bundles carry it. Entries stored before this version are numbered by receipt
--   time, then applied before rejected, then sequence number: the order a push applied them in.
-- - A rejected entry is kept whole with its signature, its reason and the reason's detail (a
--   malformed entry's case), so a `bad_signature` verdict can be checked again by anyone.
-- - Revocation has a time: `devices.revoked_ms` is from when the key counts as revoked (entries
--   received from then on are `revoked_key`; earlier ones stay valid), which head office may set
--   earlier than the moment it recorded the revocation (`revoked_recorded_ms`): a phone lost
--   yesterday afternoon.
-- - An exception raised on a rejected entry points at that rejected row (`rejected_op`), not at
--   its op id: a valid op may later arrive with the same id.
-- - One name per finding: `photo_hash_mismatch` exceptions become `image_hash_mismatch`.
--
-- The columns are added once (the runner applies each version once, under the write lock).

ALTER TABLE ops ADD COLUMN recv_index INTEGER;
ALTER TABLE rejected_ops ADD COLUMN recv_index INTEGER;
ALTER TABLE rejected_ops ADD COLUMN signature TEXT;
ALTER TABLE rejected_ops ADD COLUMN detail TEXT;
ALTER TABLE devices ADD COLUMN recv_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN revoked_recorded_ms INTEGER;
ALTER TABLE exceptions ADD COLUMN rejected_op INTEGER;

UPDATE devices SET revoked_recorded_ms = revoked_ms WHERE revoked_ms IS NOT NULL;

UPDATE ops SET recv_index = n.i
FROM (
    SELECT src, k, ROW_NUMBER() OVER (PARTITION BY device_id ORDER BY received_ms, src, seq, k) AS i
    FROM (
        SELECT device_id, received_ms, 0 AS src, seq, op_id AS k FROM ops
        UNION ALL
        SELECT device_id, received_ms, 1 AS src, seq, CAST(id AS TEXT) AS k FROM rejected_ops
    ) AS received
) AS n
WHERE n.src = 0 AND n.k = ops.op_id;

UPDATE rejected_ops SET recv_index = n.i
FROM (
    SELECT src, k, ROW_NUMBER() OVER (PARTITION BY device_id ORDER BY received_ms, src, seq, k) AS i
    FROM (
        SELECT device_id, received_ms, 0 AS src, seq, op_id AS k FROM ops
        UNION ALL
        SELECT device_id, received_ms, 1 AS src, seq, CAST(id AS TEXT) AS k FROM rejected_ops
    ) AS received
) AS n
WHERE n.src = 1 AND n.k = CAST(rejected_ops.id AS TEXT);

UPDATE devices SET recv_count = coalesce((
    SELECT max(i) FROM (
        SELECT recv_index AS i FROM ops WHERE ops.device_id = devices.device_id
        UNION ALL
        SELECT recv_index AS i FROM rejected_ops r WHERE r.device_id = devices.device_id
    ) AS both_kinds
), 0);

CREATE UNIQUE INDEX IF NOT EXISTS ops_receive_order ON ops (device_id, recv_index);
CREATE INDEX IF NOT EXISTS rejected_ops_receive_order ON rejected_ops (device_id, recv_index);

-- Exceptions raised on rejected entries before this version pointed at the op id: they point at
-- the rejected row now (the latest of that op id and device with the matching reason), and no
-- longer at an op id that a valid op may have taken since. A fork found on an applied op
-- (`broken_link`) stays on its op.
UPDATE exceptions SET rejected_op = (
    SELECT max(r.id) FROM rejected_ops r
    WHERE r.op_id = exceptions.op_id AND r.device_id = exceptions.device_id
      AND r.reason = CASE WHEN exceptions.code = 'bad_signature' THEN 'bad_signature'
                          ELSE 'conflicting_duplicate' END)
WHERE op_id IS NOT NULL
  AND (code = 'bad_signature'
       OR (code = 'chain_fork'
           AND (params LIKE '%"fork":"op_id_reused"%' OR params LIKE '%"fork":"seq_taken"%')));
UPDATE exceptions SET op_id = NULL WHERE rejected_op IS NOT NULL;

-- One name per finding (docs/evidence-format.md): bytes that are not the image the signed
-- manifest names are `image_hash_mismatch`, found on upload or on stored bytes (the upload's
-- refusal keeps its wire code, `photo_hash_mismatch`). At most one open exception per (code,
-- visit, subject): an open upload finding that meets an open one of the same photo under the
-- one name is closed as that same finding, with its history row, before the rename.
INSERT INTO exception_history (exception_id, action, actor_id, at_ms, comment)
    SELECT id, 'resolve', 'server', created_ms, 'the same finding is open as image_hash_mismatch'
    FROM exceptions x
    WHERE x.code = 'photo_hash_mismatch' AND x.resolved_ms IS NULL
      AND EXISTS (SELECT 1 FROM exceptions o WHERE o.code = 'image_hash_mismatch' AND o.resolved_ms IS NULL
                  AND coalesce(o.visit_id, '') = coalesce(x.visit_id, '') AND o.subject = x.subject);
UPDATE exceptions SET status = 'resolved', resolved_ms = created_ms, resolved_by = 'server',
    resolution_comment = 'the same finding is open as image_hash_mismatch'
WHERE code = 'photo_hash_mismatch' AND resolved_ms IS NULL
  AND EXISTS (SELECT 1 FROM exceptions o WHERE o.code = 'image_hash_mismatch' AND o.resolved_ms IS NULL
              AND coalesce(o.visit_id, '') = coalesce(exceptions.visit_id, '') AND o.subject = exceptions.subject);
UPDATE exceptions SET code = 'image_hash_mismatch' WHERE code = 'photo_hash_mismatch';
UPDATE alert_rules SET codes = replace(codes, 'photo_hash_mismatch', 'image_hash_mismatch')
WHERE codes LIKE '%photo_hash_mismatch%';
