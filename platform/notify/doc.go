// Package notify tells people what the case loop and the monitoring want from them: a case
// dispatched to their department, returned for rework (返工), close to its deadline (预警) or
// overdue, an alarm raised, an import of theirs finished, a bulletin published. Each event is stored once (notify_events, filled by a trigger on
// case_events in the transaction that records the action, or by the loop's scans under a
// deterministic key), fanned out to an in-app inbox row per recipient (always) and to one
// delivery per (event, recipient, channel): email over SMTP, the WeChat Work (企业微信) group
// robot of the department or the tenant, SMS through a Provider (Aliyun SMS). The delivery loop
// works through the deliveries with internal/outbox's retry policy; quiet hours hold SMS and
// WeChat until the morning (China time); users choose their channels and a daily digest.
package notify
