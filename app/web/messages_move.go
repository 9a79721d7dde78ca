package web

import "github.com/cityops/cityops/internal/msg"

// Text of a tenant's placement on the operator's tenant page (ops_tenant.html).
var _ = msg.Define(
	msg.Text{ID: "ops.tenant.cluster", ZH: "数据库集群", EN: "Database cluster"},
	msg.Text{ID: "ops.tenant.frozen", ZH: "迁移中，暂停写入", EN: "moving: writes paused"},
)
