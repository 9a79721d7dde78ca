package app

import "github.com/cityops/cityops/internal/msg"

// The messages of `cityops tenants move` about how the copy was made (logical replication, or
// pg_dump under the freeze when the source cluster has none).
var (
	msgCLIMoveLogicalSteps = msg.New("app.cli_move_logical_steps",
		"copied by logical replication while the tenant kept writing: copy %v, catch-up of the last changes in the freeze %v, verification %v, total %v",
		"通过逻辑复制在单位继续写入的同时完成复制：复制 %v，冻结期间追平最后的修改 %v，校验 %v，共 %v")
	msgCLIMoveFallback = msg.New("app.cli_move_fallback",
		"logical replication was not available (%s): the schema was copied with pg_dump while writes were paused. Set wal_level = logical on cluster %s (and let cluster %s connect to it) to pause writes for seconds only; see docs/operations.md.",
		"无法使用逻辑复制（%s）：已在暂停写入期间用 pg_dump 复制模式。在集群 %s 上设置 wal_level = logical（并允许集群 %s 连接到它）后，写入只需暂停几秒；参见 docs/operations.md。")
	msgCLIMoveIdentityFull = msg.New("app.cli_move_identity_full",
		"tables without a primary key were given REPLICA IDENTITY FULL for the replication (kept): %s",
		"无主键的表已为复制设置 REPLICA IDENTITY FULL（保留）：%s")
)
