package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/tenants"
	"github.com/spf13/cobra"
)

// restoreCommand is `cityops tenants restore SLUG`: one tenant's data back to a point in time
// (PostgreSQL, from the cluster's pgBackRest backups) or from a file (SQLite).
func restoreCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "restore SLUG", Args: cobra.ExactArgs(1),
		Short: "Restore one tenant to a point in time from the pgBackRest backups, beside its live data (--into side) or in place; SQLite: --from FILE",
		RunE: withApp(stderr, func(ctx context.Context, a *App, args []string, c *cobra.Command) error {
			f := c.Flags()
			t, err := a.store.FindTenantBySlug(ctx, args[0])
			if err != nil {
				return err
			}
			if from, _ := f.GetString("from"); from != "" {
				aside, err := a.store.RestoreFile(ctx, t, from)
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, msgCLIRestoredFile.In(cliLang(), t.Slug, from, aside))
				return nil
			}
			var o tenants.RestoreOptions
			raw, _ := f.GetString("to")
			if o.To, err = parseRestoreTime(raw); err != nil {
				return err
			}
			into, _ := f.GetString("into")
			o.Mode = tenants.RestoreMode(into)
			o.Backup.Stanza, _ = f.GetString("stanza")
			o.Backup.Config, _ = f.GetString("pgbackrest-config")
			o.Backup.RepoPath, _ = f.GetString("from-backup-dir")
			o.Backup.OSUser, _ = f.GetString("os-user")
			if o.Backup.OSUser == "" && os.Geteuid() == 0 {
				o.Backup.OSUser = "postgres"
			}
			o.WorkDir, _ = f.GetString("work-dir")
			o.BinDir, _ = f.GetString("pg-bindir")
			o.Jobs, _ = f.GetInt("jobs")
			o.PrefectureAlone, _ = f.GetBool("prefecture-alone")
			o.Settle, _ = f.GetDuration("settle")
			res, err := a.store.Restore(ctx, t, o)
			if err != nil {
				return err
			}
			if asJSON, _ := f.GetBool("json"); asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			return printRestore(stdout, t, res)
		})}
	f := cmd.Flags()
	f.String("to", "", "the time to restore to: RFC 3339 (2026-12-07T15:04:05+08:00) or 2026-12-07 15:04:05 in China time")
	f.String("into", string(tenants.RestoreSide), "side: a read-only schema beside the live one, with row counts to compare; in-place: replace the live schema (a short write freeze; the old one is kept aside)")
	f.String("stanza", "cityops", "the pgBackRest stanza of the cluster")
	f.String("pgbackrest-config", "", "pgbackrest.conf (default: pgBackRest's, /etc/pgbackrest/pgbackrest.conf)")
	f.String("from-backup-dir", "", "a pgBackRest repository on local disk to restore from instead of the configuration's (repo1-path)")
	f.String("os-user", "", "the OS user pgBackRest and the throwaway PostgreSQL run as (default: the current user; postgres when run as root)")
	f.String("work-dir", "", "where the cluster is restored for the time of the restore; needs room for the whole cluster (default: the temporary directory)")
	f.String("pg-bindir", "", "PostgreSQL programs of the backup's version (default: /usr/lib/postgresql/<version>/bin)")
	f.Int("jobs", 2, "parallel jobs of pg_dump and pg_restore")
	f.Duration("settle", 0, "in place: how long the write freeze waits for every replica to see the suspension before the swap (default 1.5s, three cache sync intervals)")
	f.Bool("prefecture-alone", false, "allow restoring a prefecture in place: only its own schema goes back in time, not its counties'")
	f.String("from", "", "SQLite: the tenant's database file from a file-level backup, put in place of the live one")
	f.Bool("json", false, "print the result as JSON")
	return cmd
}

// parseRestoreTime reads --to: RFC 3339, or a date and time without zone in China time.
func parseRestoreTime(raw string) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}, nil // Restore says that a time is needed
	}
	if t, err := time.Parse(time.RFC3339Nano, raw); err == nil {
		return t, nil
	}
	loc, err := time.LoadLocation(clock.ChinaZoneName)
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, raw, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errs.Field("to", msgCLIRestoreTime, raw)
}

func printRestore(w io.Writer, t *tenants.Tenant, res *tenants.RestoreResult) error {
	lang := cliLang()
	to := res.To.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05.000 -07:00")
	if res.Mode == tenants.RestoreSide {
		fmt.Fprintln(w, msgCLIRestoredSide.In(lang, t.Slug, to, res.Backup, res.Schema))
	} else {
		fmt.Fprintln(w, msgCLIRestoredInPlace.In(lang, t.Slug, to, res.Backup, res.Aside, res.Freeze.Round(time.Millisecond)))
	}
	if t.Kind == tenants.Prefecture {
		fmt.Fprintln(w, msgCLIRestoredPrefecture.In(lang, t.Slug))
	}
	// The tables whose rows differ, then how many do not (a county has some fifty tables).
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	count := func(n int64) string {
		if n < 0 {
			return "-"
		}
		return fmt.Sprint(n)
	}
	same, header := 0, false
	for _, r := range res.Tables {
		if r.Restored == r.Live {
			same++
			continue
		}
		if !header {
			fmt.Fprintln(tw, msgCLIRestoreHeader.In(lang))
			header = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, count(r.Restored), count(r.Live))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, msgCLIRestoreSame.In(lang, same))
	fmt.Fprintln(w, msgCLIRestoreSteps.In(lang, res.ClusterRestore.Round(time.Millisecond), res.Dump.Round(time.Millisecond),
		res.Load.Round(time.Millisecond), res.Swap.Round(time.Millisecond), res.Total.Round(time.Millisecond)))
	return nil
}

var (
	msgCLIRestoreTime = msg.New("app.cli_restore_time",
		"%q is not a time: use RFC 3339 (2026-12-07T15:04:05+08:00) or 2026-12-07 15:04:05 (China time).",
		"%q 不是有效的时间：请使用 RFC 3339 格式（2026-12-07T15:04:05+08:00）或 2026-12-07 15:04:05（北京时间）。")
	msgCLIRestoredSide = msg.New("app.cli_restored_side",
		"tenant %s as at %s (backup %s) is in the read-only schema %s beside the live data; drop it when done (DROP SCHEMA %[4]s CASCADE)",
		"单位 %s 在 %s 时的数据（备份 %s）已恢复到只读模式 %s，与现有数据并存；用完请删除（DROP SCHEMA %[4]s CASCADE）")
	msgCLIRestoredInPlace = msg.New("app.cli_restored_in_place",
		"tenant %s is restored in place to %s (backup %s); its data before the restore is kept in the schema %s until you drop it; writes were refused for %v",
		"单位 %s 已原位恢复到 %s（备份 %s）；恢复前的数据保留在模式 %s 中，直到您将其删除；写入暂停了 %v")
	msgCLIRestoredPrefecture = msg.New("app.cli_restored_prefecture",
		"%s is a prefecture: only its own schema was restored; its counties keep their data (restore each by its slug if needed)",
		"%s 是州（市）级单位：只恢复了其自身的数据，所辖县（市）的数据保持不变（如需恢复，请逐个按其标识恢复）")
	msgCLIRestoredFile = msg.New("app.cli_restored_file",
		"tenant %s is restored from %s; its file before the restore is kept as %s",
		"单位 %s 已从 %s 恢复；恢复前的文件保留为 %s")
	msgCLIRestoreHeader = msg.New("app.cli_restore_header",
		"TABLE\tROWS RESTORED\tROWS LIVE (BEFORE)",
		"表\t恢复的行数\t现有（恢复前）行数")
	msgCLIRestoreSame = msg.New("app.cli_restore_same",
		"%d tables have the same number of rows restored and live",
		"%d 个表恢复的行数与现有行数相同")
	msgCLIRestoreSteps = msg.New("app.cli_restore_steps",
		"cluster restore %v, dump %v, load %v, swap %v, total %v",
		"集群恢复 %v，导出 %v，导入 %v，切换 %v，共 %v")
)
