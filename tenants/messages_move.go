package tenants

import "github.com/cityops/cityops/internal/msg"

// The messages of placement on clusters and of moves between them (clusters.go, move.go).
var (
	msgClustersFull = msg.New("tenants.clusters_full",
		"Every database cluster is full (its configured capacity of tenants is reached): raise a capacity (CITYOPS_CLUSTER_CAPACITY) or add a cluster (CITYOPS_CLUSTERS).",
		"所有数据库集群均已满（达到配置的单位数上限）：请调高容量（CITYOPS_CLUSTER_CAPACITY）或增加集群（CITYOPS_CLUSTERS）。")
	msgClusterNotConfigured = msg.New("tenants.cluster_not_configured",
		"The database cluster %q is not configured on this server (CITYOPS_CLUSTERS).",
		"本服务器未配置数据库集群 %q（CITYOPS_CLUSTERS）。")
	msgTenantWritesFrozen = msg.New("tenants.writes_frozen",
		"%s is being moved to another database server: changes are paused for a moment, reading works. Try again in a few seconds.",
		"%s 正在迁移到另一台数据库服务器：暂停修改片刻，查询不受影响。请几秒后重试。")
	msgTxEachOneCluster = msg.New("tenants.txeach_one_cluster",
		"The tenants of a grouped write are on different database clusters.",
		"合并写入的各单位位于不同的数据库集群。")
	msgRestoreOtherCluster = msg.New("tenants.restore_other_cluster",
		"%s is on the cluster %s: restore it from that cluster's backups, with that cluster's database URL.",
		"%s 位于集群 %s：请使用该集群的备份及数据库地址进行恢复。")
	msgMoveNeedsPostgres = msg.New("tenants.move_needs_postgres",
		"%s runs on SQLite, where every tenant is a file of the one data directory: there is no other cluster to move it to. To move the whole installation, copy the data directory while the server is stopped.",
		"%s 运行在 SQLite 上，所有单位都是同一数据目录中的文件，没有可迁往的其他集群。如需整体迁移，请在停止服务后复制数据目录。")
	msgMoveTenantNotLive = msg.New("tenants.move_tenant_not_live",
		"Tenant %s is %s: only an active or suspended tenant can be moved.",
		"单位 %s 当前状态为 %s：只有正常或已暂停的单位可以迁移。")
	msgMoveLeaseHeld = msg.New("tenants.move_lease_held",
		"Another move of %s is running. If its process died, run the command again after %v.",
		"%s 的另一个迁移正在进行。如该进程已中断，请在 %v 后重新执行命令。")
	msgMoveToRequired = msg.New("tenants.move_to_required",
		"Say which cluster to move to (--to NAME; cityops tenants clusters lists them).",
		"请指定目标集群（--to 名称；cityops tenants clusters 可列出集群）。")
	msgMoveAlreadyThere = msg.New("tenants.move_already_there",
		"%s is on the cluster %s already.",
		"%s 已位于集群 %s。")
	msgMoveOtherInProgress = msg.New("tenants.move_other_in_progress",
		"A move of %s from %s to %s was interrupted: finish it (--to %s) or roll it back (cityops tenants move %s --abort) first.",
		"%s 从 %s 到 %s 的迁移曾中断：请先完成（--to %s）或回滚（cityops tenants move %s --abort）。")
	msgMoveNoneInProgress = msg.New("tenants.move_none_in_progress",
		"%s has no move in progress.",
		"%s 没有进行中的迁移。")
	msgMoveAbortSwitched = msg.New("tenants.move_abort_switched",
		"The move of %s has switched to %s already and cannot be rolled back: finish it (--to %s), then move it back if need be (cityops tenants move %s --to …).",
		"%s 的迁移已切换到 %s，无法回滚：请先完成（--to %s），如有需要再迁回（cityops tenants move %s --to …）。")
	msgMoveTenantChanged = msg.New("tenants.move_tenant_changed",
		"The placement of %s changed during the move.",
		"迁移期间 %s 的集群位置发生了变化。")
	msgMoveVerifyFailed = msg.New("tenants.move_verify_failed",
		"The copy does not match the original: %s. The move was rolled back.",
		"副本与原数据不一致：%s。迁移已回滚。")
	msgMoveFailedRolledBack = msg.New("tenants.move_failed_rolled_back",
		"Moving %s failed at the step %s and was rolled back: the tenant stays where it was and works as before. Cause: %s",
		"迁移 %s 在“%s”步骤失败并已回滚：该单位仍在原集群，照常使用。原因：%s")
	msgMoveFailedFrozen = msg.New("tenants.move_failed_frozen",
		"Moving %s failed at the step %s and could not be rolled back; its writes are still paused: run cityops tenants move %s --abort.",
		"迁移 %s 在“%s”步骤失败且未能回滚，其写入仍处于暂停状态：请执行 cityops tenants move %s --abort。")
	msgMoveFinishFailed = msg.New("tenants.move_finish_failed",
		"%s is on %s now, but the move could not finish (its writes are still paused): run cityops tenants move %s --to %s again.",
		"%s 现已位于 %s，但迁移未能完成（写入仍暂停）：请再次执行 cityops tenants move %s --to %s。")
)
