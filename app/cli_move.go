package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/tenants"
	"github.com/spf13/cobra"
)

// moveCommand is `cityops tenants move SLUG --to CLUSTER`: one tenant's schema to another
// PostgreSQL cluster, with a short write freeze and a verified copy (tenants.Store.Move).
func moveCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "move SLUG", Args: cobra.ExactArgs(1),
		Short: "Move a tenant to another PostgreSQL cluster (copied by logical replication, then a short write freeze; pg_dump under the freeze where the source has no wal_level=logical; re-run to resume an interrupted move, --abort to roll it back)",
		RunE: withApp(stderr, func(ctx context.Context, a *App, args []string, c *cobra.Command) error {
			f := c.Flags()
			t, err := a.store.FindTenantBySlug(ctx, args[0])
			if err != nil {
				return err
			}
			var o tenants.MoveOptions
			o.To, _ = f.GetString("to")
			o.Abort, _ = f.GetBool("abort")
			o.KeepOld, _ = f.GetBool("keep-old")
			o.Jobs, _ = f.GetInt("jobs")
			o.Settle, _ = f.GetDuration("settle")
			o.WorkDir, _ = f.GetString("work-dir")
			o.BinDir, _ = f.GetString("pg-bindir")
			res, err := a.store.Move(ctx, t, o)
			if err != nil {
				return err
			}
			if asJSON, _ := f.GetBool("json"); asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			lang := cliLang()
			if res.Aborted {
				fmt.Fprintln(stdout, msgCLIMoveAborted.In(lang, res.Tenant, res.From))
				return nil
			}
			fmt.Fprintln(stdout, msgCLIMoved.In(lang, res.Tenant, res.From, res.To, len(res.Tables), res.Freeze.Round(time.Millisecond)))
			if res.Resumed {
				fmt.Fprintln(stdout, msgCLIMoveResumed.In(lang))
			}
			if res.Aside != "" {
				fmt.Fprintln(stdout, msgCLIMoveAside.In(lang, res.From, res.Aside))
			}
			if len(res.IdentityFull) > 0 {
				fmt.Fprintln(stdout, msgCLIMoveIdentityFull.In(lang, strings.Join(res.IdentityFull, ", ")))
			}
			if res.Method == tenants.MoveLogical {
				fmt.Fprintln(stdout, msgCLIMoveLogicalSteps.In(lang, res.Copy.Round(time.Millisecond), res.CatchUp.Round(time.Millisecond),
					res.Verify.Round(time.Millisecond), res.Total.Round(time.Millisecond)))
				return nil
			}
			if res.Fallback != "" {
				fmt.Fprintln(stdout, msgCLIMoveFallback.In(lang, res.Fallback, res.From, res.To))
			}
			fmt.Fprintln(stdout, msgCLIMoveSteps.In(lang, res.Copy.Round(time.Millisecond), res.Verify.Round(time.Millisecond), res.Total.Round(time.Millisecond)))
			return nil
		})}
	f := cmd.Flags()
	f.String("to", "", "the cluster to move to (cityops tenants clusters lists them)")
	f.Bool("abort", false, "roll back an interrupted move that has not switched yet: drop the copy, resume writes where the tenant is")
	f.Bool("keep-old", false, "keep the schema left on the old cluster, renamed <schema>_moved_<time> and closed to the tenant (default: drop it once the tenant is switched)")
	f.Int("jobs", 2, "parallel jobs of pg_dump and pg_restore (the fallback copy)")
	f.Duration("settle", 0, "how long the freeze waits for every replica to see a change of the tenant (default 1.5s, three cache sync intervals)")
	f.String("work-dir", "", "where the dump is kept during the copy (default: the temporary directory)")
	f.String("pg-bindir", "", "PostgreSQL client programs (default: pg_dump and pg_restore on PATH)")
	f.Bool("json", false, "print the result as JSON")
	return cmd
}

// clustersCommand is `cityops tenants clusters`: the configured clusters with their capacity and
// the tenants placed on each.
func clustersCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "clusters", Args: cobra.NoArgs,
		Short: "List the PostgreSQL clusters tenants are placed on, with capacity and use",
		RunE: withApp(stderr, func(ctx context.Context, a *App, _ []string, c *cobra.Command) error {
			use, err := a.store.Clusters(ctx)
			if err != nil {
				return err
			}
			if asJSON, _ := c.Flags().GetBool("json"); asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(use)
			}
			lang := cliLang()
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, msgCLIClustersHeader.In(lang))
			for _, u := range use {
				capacity := fmt.Sprint(u.Capacity)
				if u.Capacity == 0 {
					capacity = "-"
				}
				state := msgCLIClusterOK.In(lang)
				if !u.Configured {
					state = msgCLIClusterUnknown.In(lang)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", u.Name, u.Tenants, capacity, state)
			}
			return tw.Flush()
		})}
	cmd.Flags().Bool("json", false, "print the result as JSON")
	return cmd
}

var (
	msgCLIMoved = msg.New("app.cli_moved",
		"tenant %s moved from %s to %s: %d tables copied and verified (rows and checksums); writes were paused for %v",
		"单位 %s 已从 %s 迁移到 %s：复制并校验了 %d 个表（行数与校验和）；写入暂停了 %v")
	msgCLIMoveResumed = msg.New("app.cli_move_resumed",
		"(an interrupted move was resumed)",
		"（已继续完成此前中断的迁移）")
	msgCLIMoveAside = msg.New("app.cli_move_aside",
		"the data left on %s is kept in the schema %s; drop it when no longer needed (DROP SCHEMA %[2]s CASCADE)",
		"%s 上的原数据保留在模式 %s 中；不再需要时请删除（DROP SCHEMA %[2]s CASCADE）")
	msgCLIMoveSteps = msg.New("app.cli_move_steps",
		"copy %v, verification %v, total %v",
		"复制 %v，校验 %v，共 %v")
	msgCLIMoveAborted = msg.New("app.cli_move_aborted",
		"the move of %s was rolled back: it stays on %s and takes writes again",
		"%s 的迁移已回滚：仍位于 %s，已恢复写入")
	msgCLIClustersHeader = msg.New("app.cli_clusters_header",
		"CLUSTER\tTENANTS\tCAPACITY\tSTATE",
		"集群\t单位数\t容量\t状态")
	msgCLIClusterOK = msg.New("app.cli_cluster_ok",
		"configured",
		"已配置")
	msgCLIClusterUnknown = msg.New("app.cli_cluster_unknown",
		"NOT CONFIGURED here: its tenants cannot be reached",
		"本机未配置：其单位无法访问")
)
