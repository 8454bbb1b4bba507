-- v6: a plan's time window, local `HH:MM` start and end (both NULL for a plan without one, as
-- every plan from before windows existed). Shown on the day plan; head office counts a check-in
-- after the end as late.
ALTER TABLE plans ADD COLUMN window_start TEXT;
ALTER TABLE plans ADD COLUMN window_end TEXT;
