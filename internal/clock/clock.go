package clock

import "time"

// Now is the real clock: the current time in UTC, truncated to the microsecond, the precision
// both database dialects keep, so that a time read back equals the time written. Services take
// their clock as a func() time.Time (app.Options.Now, tenants.Config.Now, billing.Deps.Now, the
// platform services' now) that defaults to Now or to the store's; tests inject their own.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// China is China Standard Time, UTC+8 all year (no daylight saving since 1991): the zone of every
// day, month and year boundary the platform draws (billing periods, statistics buckets, the dates
// pages and documents show, dates typed in forms). It is a fixed zone, so it needs no time zone
// database and reads the same on every host. It is never modified.
var China = time.FixedZone("CST", 8*60*60)

// ChinaZoneName is the IANA name of China's zone, for where a zone is stored or configured by name
// (a tenant's work calendar and settings). Since 1991 it has the offsets of China.
const ChinaZoneName = "Asia/Shanghai"

// StartOfDay returns the midnight, China time, that begins the day of t there.
func StartOfDay(t time.Time) time.Time {
	c := t.In(China)
	return time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, China)
}

// StartOfMonth returns the first instant, China time, of the month of t there. AddDate(0, n, 0)
// on it gives the start of another month (its day is the 1st, so nothing spills over).
func StartOfMonth(t time.Time) time.Time {
	c := t.In(China)
	return time.Date(c.Year(), c.Month(), 1, 0, 0, 0, 0, China)
}
