// Package calendar owns a tenant's work calendar (working hours, weekends, holidays and the
// adjusted working days, 调休) and the clock of time limits: deadlines in urgent hours (natural
// time), working hours or working days, paused by suspensions and moved by extensions, and the
// overtime multiple of an overdue case.
//
// The arithmetic (Calendar, Timer) is pure Go over a calendar value, with no database, so the
// case module can compute deadlines in memory and the clock is property-tested. Service loads a
// tenant's calendar through the tenant gate and imports its holidays per year.
//
// A working day is measured as the working time of one day (with the default hours 08:30–12:00
// and 14:30–18:00, seven working hours): 1 工作日 from 10:00 on a Monday ends at 10:00 on
// Tuesday, and half a working day is three and a half working hours. Since every working day of
// a tenant has the same hours, this equals "the same point of the Nth next working day".
package calendar
