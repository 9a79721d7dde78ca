// Package guidance is the two-level work between a prefecture and its counties: 业务指导
// (notices, standards and documents published down with read receipts and acknowledgement
// deadlines; periodic report templates the counties fill and submit up, numbers pre-filled from
// their own indicators) and 监督检查 (inspection tasks with map points, a checklist and a
// deadline, answered by the counties and scored or sent back by the prefecture; spot checks of
// closed cases, 核查抽检).
//
// Each side writes only its own tenant: the prefecture's notices, tasks, templates, reviews and
// spot checks are rows of the prefecture's tenant; a county's receipts, responses, submissions
// and re-inspections are rows of the county's. Each side reads the other's rows through one
// crossing, Channel, which checks the relation in the control plane, opens the other tenant
// read-only (its read-only database role on PostgreSQL) and audits the crossing. No handler ever
// holds a write handle on another tenant (docs/guidance.md).
package guidance
