//! The day's map (`/app/map`): the stores of a day's plans and visits with their status, and
//! each rep's visits in check-in order (the route), where each check-in was and what was found
//! about its location.
//!
//! Which stops count as planned, visited, missed or late, and which visits had no plan, is
//! [`super::plans::planned_vs_done`]'s rule (the plan page and scorecards use the same); this
//! module only adds the places. The map's visits are the ones that rule considers: every
//! visit that fulfilled a plan, and the store checks without one (cancelled visits and
//! supervisor inspections outside any plan are not route work).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::db::{Connection, params};

use super::plans::{PlanFilter, StopOutcome, planned_vs_done};
use crate::calendar::Calendar;
use crate::error::ApiResult;
use crate::web::auth::scope_sql;

/// A store's colour on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreStatus {
    /// Planned for the day and visited (on time or late).
    Visited,
    /// Planned, not visited yet, and the day is not over.
    Planned,
    /// Planned, not visited, and the day is over.
    Missed,
    /// Visited without a plan.
    Unplanned,
}

impl StoreStatus {
    pub const ALL: [StoreStatus; 4] = [
        StoreStatus::Planned,
        StoreStatus::Visited,
        StoreStatus::Missed,
        StoreStatus::Unplanned,
    ];

    /// The page's `data-status` and string key suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreStatus::Visited => "visited",
            StoreStatus::Planned => "planned",
            StoreStatus::Missed => "missed",
            StoreStatus::Unplanned => "unplanned",
        }
    }
}

/// A store on the day's map.
#[derive(Debug, Clone)]
pub struct MapStore {
    pub id: String,
    pub lat: f64,
    pub lon: f64,
    /// The geofence radius, metres.
    pub radius_m: f64,
    pub status: StoreStatus,
    /// A planned visit came after the plan's window.
    pub late: bool,
    /// The plan's window (`09:00–11:00`), when it has one.
    pub window: Option<String>,
    /// The reps who planned or visited it, by id.
    pub reps: Vec<String>,
    /// The day's first visit of it, to link to.
    pub visit_id: Option<String>,
}

/// One visit as a route's stop: where the rep checked in and what was found about it.
#[derive(Debug, Clone)]
pub struct MapVisit {
    pub id: String,
    pub rep_id: String,
    pub store_id: String,
    pub started: i64,
    /// The check-in fix (lat, lon), WGS-84; None when the phone had none (the stop is drawn
    /// at its store).
    pub fix: Option<(f64, f64)>,
    /// Metres from the store at check-in (the server's own measure).
    pub distance_m: Option<f64>,
    /// Checked in outside the geofence (the check-in's verdict, or an `outside_geofence`
    /// finding on the visit).
    pub outside: bool,
    /// A mock (simulated) location: the check-in fix said so, or a `mock_location` finding.
    pub mock: bool,
    /// The visit fulfilled a plan.
    pub planned: bool,
    pub late: bool,
}

/// A rep's route: their visits of the day in check-in order.
#[derive(Debug, Clone)]
pub struct Route {
    pub rep_id: String,
    pub visits: Vec<MapVisit>,
}

/// The day's map data.
#[derive(Debug, Clone, Default)]
pub struct MapDay {
    /// Stores by id.
    pub stores: Vec<MapStore>,
    /// Routes by rep id (the page orders them by name).
    pub routes: Vec<Route>,
}

/// The map's filter choices: (id, name) of the reps the viewer sees, and (code, name) of the
/// teams (empty for a supervisor, who sees one).
pub struct MapChoices {
    pub reps: Vec<(String, String)>,
    pub teams: Vec<(String, String)>,
}

/// A store's place from its reference record.
struct Place {
    lat: f64,
    lon: f64,
    radius_m: f64,
}

fn places(c: &Connection, ids: &HashSet<&str>) -> ApiResult<HashMap<String, Place>> {
    let mut st = c.prepare_cached(
        "SELECT json_extract(body, '$.latitude'), json_extract(body, '$.longitude'),
                coalesce(json_extract(body, '$.geofence_radius_m'), 0)
         FROM stores WHERE id = ?1",
    )?;
    let mut out = HashMap::new();
    for id in ids {
        let row = st.query_row([id], |r| {
            Ok((
                r.get::<_, Option<f64>>(0)?,
                r.get::<_, Option<f64>>(1)?,
                r.get::<_, f64>(2)?,
            ))
        });
        // A store missing from the reference data, or without coordinates, has no place.
        if let Ok((Some(lat), Some(lon), radius_m)) = row
            && lat.is_finite()
            && lon.is_finite()
        {
            out.insert(id.to_string(), Place { lat, lon, radius_m });
        }
    }
    Ok(out)
}

/// The day `day`'s map in the viewer's scope and the filter. `today`: a planned stop not
/// visited is *missed* once its day is over, *planned* until then.
pub fn map_day(
    c: &Connection,
    cal: Calendar,
    scope: Option<&str>,
    day: i64,
    today: i64,
    filter: &PlanFilter,
) -> ApiResult<MapDay> {
    let plans = planned_vs_done(c, cal, scope, day, day, filter)?;
    // visit id → (planned, late)
    let mut shown: HashMap<&str, (bool, bool)> = HashMap::new();
    for stop in &plans.stops {
        if let StopOutcome::Visited { visit_id, late, .. } = &stop.outcome {
            shown.insert(visit_id, (true, *late));
        }
    }
    for u in &plans.unplanned {
        shown.insert(&u.visit_id, (false, false));
    }

    let (from, to) = cal.day_bounds(day);
    let sql = format!(
        "SELECT v.id, v.user_id, v.store_id, v.started_wall_ms, v.distance_m, v.geofence = 'outside',
                json_extract(o.entry, '$.payload.fix.latitude'), json_extract(o.entry, '$.payload.fix.longitude'),
                coalesce(json_extract(o.entry, '$.payload.fix.is_mock'), 0),
                EXISTS (SELECT 1 FROM exceptions e WHERE e.visit_id = v.id AND e.code = 'outside_geofence'),
                EXISTS (SELECT 1 FROM exceptions e WHERE e.visit_id = v.id AND e.code = 'mock_location')
         FROM visits v LEFT JOIN ops o ON o.op_id = v.check_in_op
         WHERE v.started_wall_ms >= ?1 AND v.started_wall_ms < ?2 AND {}
         ORDER BY v.started_wall_ms, v.id",
        scope_sql("v.user_id", 3)
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(params![from, to, scope], |r| {
        let lat: Option<f64> = r.get(6)?;
        let lon: Option<f64> = r.get(7)?;
        let fix_mock: bool = r.get(8)?;
        let outside_verdict: bool = r.get(5)?;
        let outside_found: bool = r.get(9)?;
        let mock_found: bool = r.get(10)?;
        Ok(MapVisit {
            id: r.get(0)?,
            rep_id: r.get(1)?,
            store_id: r.get(2)?,
            started: r.get(3)?,
            distance_m: r.get(4)?,
            fix: lat.zip(lon).filter(|(a, b)| a.is_finite() && b.is_finite()),
            outside: outside_verdict || outside_found,
            mock: fix_mock || mock_found,
            planned: false,
            late: false,
        })
    })?;
    let mut routes: BTreeMap<String, Vec<MapVisit>> = BTreeMap::new();
    for v in rows {
        let mut v = v?;
        let Some(&(planned, late)) = shown.get(v.id.as_str()) else {
            continue;
        };
        v.planned = planned;
        v.late = late;
        routes.entry(v.rep_id.clone()).or_default().push(v);
    }

    // Stores: every planned stop's and every shown visit's.
    let mut ids: HashSet<&str> = plans.stops.iter().map(|s| s.store_id.as_str()).collect();
    ids.extend(routes.values().flatten().map(|v| v.store_id.as_str()));
    let places = places(c, &ids)?;
    struct Acc {
        status: Option<StoreStatus>,
        late: bool,
        window: Option<String>,
        reps: Vec<String>,
        visit: Option<(i64, String)>,
    }
    let mut acc: BTreeMap<&str, Acc> = BTreeMap::new();
    let new = || Acc {
        status: None,
        late: false,
        window: None,
        reps: Vec::new(),
        visit: None,
    };
    let day_over = day < today;
    for stop in &plans.stops {
        let a = acc.entry(stop.store_id.as_str()).or_insert_with(new);
        let status = if stop.visited() {
            StoreStatus::Visited
        } else if day_over {
            StoreStatus::Missed
        } else {
            StoreStatus::Planned
        };
        a.late |= stop.late();
        if a.window.is_none() {
            a.window = stop.window.map(|w| w.label());
        }
        // Mixed outcomes (two reps planned it): what still needs attention shows.
        a.status = Some(a.status.map_or(status, |s| s.max(status)));
        if !a.reps.contains(&stop.rep_id) {
            a.reps.push(stop.rep_id.clone());
        }
    }
    for v in routes.values().flatten() {
        let a = acc.entry(v.store_id.as_str()).or_insert_with(new);
        if a.status.is_none() {
            a.status = Some(StoreStatus::Unplanned);
        }
        if a.status == Some(StoreStatus::Unplanned) && v.planned {
            a.status = Some(StoreStatus::Visited);
        }
        if !a.reps.contains(&v.rep_id) {
            a.reps.push(v.rep_id.clone());
        }
        if a.visit.as_ref().is_none_or(|(t, _)| v.started < *t) {
            a.visit = Some((v.started, v.id.clone()));
        }
    }
    let stores = acc
        .into_iter()
        .filter_map(|(id, a)| {
            let p = places.get(id)?;
            Some(MapStore {
                id: id.to_string(),
                lat: p.lat,
                lon: p.lon,
                radius_m: p.radius_m,
                status: a.status.unwrap_or(StoreStatus::Unplanned),
                late: a.late,
                window: a.window,
                reps: a.reps,
                visit_id: a.visit.map(|(_, id)| id),
            })
        })
        .collect();
    let routes = routes
        .into_iter()
        .map(|(rep_id, visits)| Route { rep_id, visits })
        .collect();
    Ok(MapDay { stores, routes })
}

/// The reps and teams the map's filter offers the viewer.
pub fn map_choices(c: &Connection, scope: Option<&str>) -> ApiResult<MapChoices> {
    let name = "coalesce(json_extract(body, '$.name'), id)";
    let mut st = c.prepare(&format!(
        "SELECT id, {name} FROM users WHERE role = 'rep' AND {} ORDER BY 2, 1",
        scope_sql("id", 1)
    ))?;
    let reps = st
        .query_map([scope], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let teams = if scope.is_some() {
        Vec::new()
    } else {
        let mut st = c.prepare("SELECT code, name FROM teams ORDER BY name, code")?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    Ok(MapChoices { reps, teams })
}
