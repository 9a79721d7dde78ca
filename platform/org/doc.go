// Package org owns a tenant's organisation: departments in up to three levels (专业部门 and
// their sub-units) and the staff who hold the posts of the case loop — inspector 监督员,
// acceptor 受理员, shift lead 值班长, dispatcher 派遣员, handler 处置人员 (who belongs to a
// department) and leader 领导. A staff member may be linked to an identity of the control plane
// by its id; the tenant's tables hold that id as a value only, never a reference to control.
package org
