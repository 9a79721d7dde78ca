-- The work calendar: one row of settings, and the days that depart from the weekly pattern
-- (holidays on weekdays, adjusted working days on weekends), imported per year.
CREATE TABLE calendar_settings (
    id            integer PRIMARY KEY CHECK (id = 1),
    time_zone     text NOT NULL,
    working_hours text NOT NULL,
    weekend       text NOT NULL,
    updated_at    timestamp NOT NULL,
    updated_by    text NOT NULL DEFAULT ''
);

CREATE TABLE calendar_days (
    day  text PRIMARY KEY CHECK (length(day) = 10),
    year integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name text NOT NULL DEFAULT ''
);
CREATE INDEX calendar_days_year ON calendar_days (year);
