-- fieldproof-server v10: indexes for the rep's and the store's pages (`/app/reps/{id}`,
-- `/app/stores/{id}`): their visit lists are one rep's or one store's visits, latest first.
-- (user_id, started_wall_ms) serves every lookup `visits_user` served (user_id is its first
-- column), so that one goes: one index fewer to write per visit.

CREATE INDEX IF NOT EXISTS visits_user_started ON visits (user_id, started_wall_ms);
DROP INDEX IF EXISTS visits_user;
CREATE INDEX IF NOT EXISTS visits_store_started ON visits (store_id, started_wall_ms);
