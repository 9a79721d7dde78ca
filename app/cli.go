package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/cityops/cityops/platform/module"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Main runs the cityops command line with args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = tenants.WithRequestInfo(ctx, tenants.RequestInfo{ID: "cli"})
	return runRoot(ctx, newRootCommand(stdin, stdout, stderr, nil), args, stdout, stderr)
}

// runRoot executes root with args and reports a failure on stderr; it returns the exit status.
func runRoot(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "cityops:", cliMessage(err))
		return 1
	}
	return 0
}

// cliMessage is err as the command line says it: in Chinese when the locale (LC_ALL, LC_MESSAGES
// or LANG) is Chinese, else in English; internal errors in full, for the operator.
func cliMessage(err error) string {
	if errs.CodeOf(err) != errs.Internal {
		m := errs.MessageIn(err, cliLang())
		if f := errs.FieldOf(err); f != "" {
			m += " (" + f + ")"
		}
		return m
	}
	return err.Error()
}

// cliLang is the command line's language, from the POSIX locale variables.
func cliLang() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			if strings.HasPrefix(l, "zh") {
				return "zh-CN"
			}
			return "en"
		}
	}
	return "en"
}

// openApp loads the configuration and builds the App for a command, with the platform's modules
// and extra.
func openApp(ctx context.Context, stderr io.Writer, extra ...module.Module) (*App, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg, Options{Logger: NewLogger(cfg, stderrFile(stderr)), Modules: extra})
}

func stderrFile(w io.Writer) *os.File {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return os.Stderr
}

// newRootCommand is the command line: the platform's commands, then each module's (with extra,
// the modules Options.Modules would add).
func newRootCommand(stdin io.Reader, stdout, stderr io.Writer, extra []module.Module) *cobra.Command {
	root := &cobra.Command{
		Use:           "cityops",
		Short:         "CityOps (城运): the city operation management service platform",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web console and the API (the default command)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			demo, _ := cmd.Flags().GetBool("demo")
			return runServe(cmd.Context(), demo, stdout, stderr)
		},
	}
	serve.Flags().Bool("demo", false, "seed the 楚雄州 demo into an empty database first")
	root.AddCommand(serve)
	root.RunE = serve.RunE
	root.Flags().Bool("demo", false, "seed the 楚雄州 demo into an empty database first")

	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the control migrations, then roll the tenant migrations out to every tenant",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd.Context(), stderr)
			if err != nil {
				return err
			}
			defer a.Close()
			return runMigrate(cmd.Context(), a, stdout)
		},
	}
	root.AddCommand(migrate, tenantsCommand(stdout, stderr), identitiesCommand(stdin, stdout, stderr), credentialsCommand(stdin, stdout, stderr))
	root.AddCommand(billingCommand(stdout, stderr))
	root.AddCommand(open311Command(stdout, stderr))
	root.AddCommand(moduleCommands(append(platformModules(nil, nil), extra...), extra, stdout, stderr)...)
	return root
}

func runServe(ctx context.Context, demo bool, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, func(addr string) {
		if demo {
			if err := a.SeedDemo(ctx, stdout); err != nil {
				a.log.Error("demo seed failed", "err", err)
				return
			}
			PrintDemoLogins(stdout, "http://"+addr)
		}
	})
}

func runMigrate(ctx context.Context, a *App, stdout io.Writer) error {
	var bar *progressbar.ProgressBar
	tty := false
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	results, err := a.Migrate(ctx, func(done, total int, r tenants.RolloutResult) {
		if tty {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stdout),
					progressbar.OptionSetDescription("migrating tenants"), progressbar.OptionShowCount())
			}
			bar.Add(1)
		}
	})
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(stdout)
	}
	if err != nil {
		return err
	}
	failed := 0
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tRESULT\tAPPLIED\tTIME")
	for _, r := range results {
		res := "ok"
		if r.Error != "" {
			res, failed = "FAILED: "+r.Error, failed+1
		} else if len(r.Applied) == 0 {
			res = "up to date"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Slug, res, strings.Join(r.Applied, ","), r.Duration.Round(1e6))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d tenants, %d failed\n", len(results), failed)
	if failed > 0 {
		return fmt.Errorf("%d tenants failed to migrate; fix them and run cityops migrate again", failed)
	}
	return nil
}

// appCommand is a command that needs the App.
type appCommand func(ctx context.Context, a *App, args []string, c *cobra.Command) error

// withApp opens the App (with the control schema up to date) around fn and closes it after.
func withApp(stderr io.Writer, fn appCommand) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		a, err := openApp(c.Context(), stderr)
		if err != nil {
			return err
		}
		defer a.Close()
		if _, err := a.store.MigrateControl(c.Context()); err != nil {
			return err
		}
		return fn(c.Context(), a, args, c)
	}
}

func tenantsCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "tenants", Short: "List, create, suspend, resume, export and offboard tenants"}
	withApp := func(fn appCommand) func(*cobra.Command, []string) error { return withApp(stderr, fn) }
	list := &cobra.Command{Use: "list", Short: "List tenants", Args: cobra.NoArgs,
		RunE: withApp(func(ctx context.Context, a *App, _ []string, c *cobra.Command) error {
			all, _ := c.Flags().GetBool("all")
			ts, err := a.store.FindTenants(ctx, tenants.TenantFilter{IncludeDeleted: all})
			if err != nil {
				return err
			}
			if asJSON, _ := c.Flags().GetBool("json"); asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				if ts == nil {
					ts = []*tenants.Tenant{}
				}
				return enc.Encode(ts)
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLUG\tCODE\tNAME\tKIND\tSTATUS\tSCHEMA\tCLUSTER")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Slug, t.AdminCode, t.NameZH, t.Kind, t.Status, t.SchemaName, t.Cluster)
			}
			return tw.Flush()
		})}
	list.Flags().Bool("json", false, "print a JSON array")
	list.Flags().Bool("all", false, "include deleted tenants")

	create := &cobra.Command{Use: "create", Short: "Create a tenant (re-running the same command resumes an interrupted one)", Args: cobra.NoArgs,
		RunE: withApp(func(ctx context.Context, a *App, _ []string, c *cobra.Command) error {
			f := c.Flags()
			var in tenants.NewTenant
			in.Slug, _ = f.GetString("slug")
			in.NameZH, _ = f.GetString("name-zh")
			in.NameEN, _ = f.GetString("name-en")
			kind, _ := f.GetString("kind")
			in.Kind = tenants.Kind(kind)
			in.AdminCode, _ = f.GetString("admin-code")
			in.ParentSlug, _ = f.GetString("parent")
			in.Plan, _ = f.GetString("plan")
			in.FirstAdminEmail, _ = f.GetString("admin-email")
			in.Cluster, _ = f.GetString("cluster")
			res, err := a.prov.Provision(ctx, in)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "tenant %s (%s) is %s, schema %s on cluster %s\n", res.Tenant.Slug, res.Tenant.AdminCode, res.Tenant.Status, res.Tenant.SchemaName, res.Tenant.Cluster)
			if res.InvitationToken != "" {
				fmt.Fprintf(stdout, "first admin's invitation (shown once): %s/invite/%s\n", a.cfg.BaseURL, res.InvitationToken)
			}
			return nil
		})}
	cf := create.Flags()
	cf.String("slug", "", "URL name, e.g. chuxiong")
	cf.String("cluster", "", "PostgreSQL cluster to place the tenant on (default: the one with the most room; cityops tenants clusters)")
	cf.String("name-zh", "", "Chinese name, e.g. 楚雄市")
	cf.String("name-en", "", "English name")
	cf.String("kind", "county", "prefecture, county, city or district")
	cf.String("admin-code", "", "GB/T 2260 code, e.g. 532301")
	cf.String("parent", "", "the parent prefecture's slug")
	cf.String("plan", "starter", "billing plan")
	cf.String("admin-email", "", "invite this person as the first tenant admin")

	bySlug := func(use, short string, fn func(ctx context.Context, a *App, t *tenants.Tenant, c *cobra.Command) error) *cobra.Command {
		return &cobra.Command{Use: use + " SLUG", Short: short, Args: cobra.ExactArgs(1),
			RunE: withApp(func(ctx context.Context, a *App, args []string, c *cobra.Command) error {
				t, err := a.store.FindTenantBySlug(ctx, args[0])
				if err != nil {
					return err
				}
				return fn(ctx, a, t, c)
			})}
	}
	suspend := bySlug("suspend", "Suspend a tenant (its data stays readable and exportable)", func(ctx context.Context, a *App, t *tenants.Tenant, c *cobra.Command) error {
		reason, _ := c.Flags().GetString("reason")
		if err := a.store.Suspend(ctx, t, reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s suspended\n", t.Slug)
		return nil
	})
	suspend.Flags().String("reason", "", "why, for the audit log")
	resume := bySlug("resume", "Resume a suspended tenant", func(ctx context.Context, a *App, t *tenants.Tenant, _ *cobra.Command) error {
		if err := a.store.Reactivate(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s active\n", t.Slug)
		return nil
	})
	provision := bySlug("provision", "Resume a tenant's interrupted provisioning", func(ctx context.Context, a *App, t *tenants.Tenant, _ *cobra.Command) error {
		if _, err := a.prov.Resume(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s active\n", t.Slug)
		return nil
	})
	export := bySlug("export", "Export a tenant's whole data set (zip: JSON, CSV and XLSX per table; --decrypt for personal data in clear)", func(ctx context.Context, a *App, t *tenants.Tenant, c *cobra.Command) error {
		out, _ := c.Flags().GetString("output")
		decrypt, _ := c.Flags().GetBool("decrypt")
		reason, _ := c.Flags().GetString("reason")
		opts := tenants.ExportOptions{PersonalData: tenants.PersonalDataEncrypted, Reason: reason, TempDir: filepath.Join(a.exportDir(), ".spool")}
		mode, name := os.FileMode(0o640), t.Slug+"-export.zip"
		if decrypt {
			opts.PersonalData, mode, name = tenants.PersonalDataClear, 0o600, t.Slug+"-export-personal-data.zip"
		}
		if out == "" {
			out = name
		}
		if err := os.MkdirAll(opts.TempDir, 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
		if err != nil {
			return err
		}
		// Audited once written: a refused or failed export leaves no file behind.
		err = a.store.ExportAudited(ctx, t, f, opts)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out)
			return err
		}
		if decrypt {
			fmt.Fprintln(stdout, msgCLIExportedClear.In(cliLang(), t.Slug, out))
		} else {
			fmt.Fprintln(stdout, msgCLIExported.In(cliLang(), t.Slug, out))
		}
		return nil
	})
	export.Flags().StringP("output", "o", "", "archive path (default SLUG-export.zip, or SLUG-export-personal-data.zip with --decrypt; never overwritten)")
	export.Flags().Bool("decrypt", false, "decrypt citizens' personal data (reporters' names and phones) into plain columns; needs --reason, audited")
	export.Flags().String("reason", "", "why the export is taken (required with --decrypt; audited and written into the archive)")
	waive := bySlug("waive-export", "Waive the export of personal data in clear that offboarding waits for (needs --reason, audited)", func(ctx context.Context, a *App, t *tenants.Tenant, c *cobra.Command) error {
		reason, _ := c.Flags().GetString("reason")
		if _, err := a.store.WaiveHandover(ctx, t, reason); err != nil {
			return err
		}
		fmt.Fprintln(stdout, msgCLIWaived.In(cliLang(), t.Slug))
		return nil
	})
	waive.Flags().String("reason", "", "why the personal data need not be exported (required; audited)")
	offboard := bySlug("offboard", "Export a tenant, destroy its key and remove its data", func(ctx context.Context, a *App, t *tenants.Tenant, c *cobra.Command) error {
		confirm, _ := c.Flags().GetString("confirm")
		key, err := a.prov.OffboardTo(ctx, t, confirm, a.blobs)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, msgCLIOffboarded.In(cliLang(), t.Slug, key, a.blobs.Kind()))
		return nil
	})
	offboard.Flags().String("confirm", "", "the tenant's slug, to confirm")
	rotate := bySlug("rotate-key", "Rotate a tenant's key, re-wrap its stored personal data, retire the old versions", func(ctx context.Context, a *App, t *tenants.Tenant, _ *cobra.Command) error {
		out, err := a.cases.RotateTenantKey(ctx, t, a.secrets)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s: key version %v, %v values re-wrapped, older versions retired\n", t.Slug, out.LatestVersion, out.Rewrapped)
		return nil
	})
	cmd.AddCommand(list, create, suspend, resume, provision, export, waive, offboard, rotate, restoreCommand(stdout, stderr),
		moveCommand(stdout, stderr), clustersCommand(stdout, stderr))
	return cmd
}

func identitiesCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "identities", Short: "Manage accounts"}
	create := &cobra.Command{Use: "create", Short: "Create an account; the password is read from standard input", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			a, err := openApp(c.Context(), stderr)
			if err != nil {
				return err
			}
			defer a.Close()
			if _, err := a.store.MigrateControl(c.Context()); err != nil {
				return err
			}
			f := c.Flags()
			var in tenants.NewIdentity
			in.Email, _ = f.GetString("email")
			in.Name, _ = f.GetString("name")
			role, _ := f.GetString("operator-role")
			in.OperatorRole = tenants.Role(role)
			fmt.Fprint(stderr, "password: ")
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			in.Password = strings.TrimRight(line, "\r\n")
			id, err := a.store.CreateIdentity(c.Context(), in)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\naccount %s created (%s)\n", id.Email, id.ID)
			return nil
		}}
	create.Flags().String("email", "", "email address (the login)")
	create.Flags().String("name", "", "display name")
	create.Flags().String("operator-role", "", "operator_admin, operator_billing or operator_support")
	cmd.AddCommand(create)
	return cmd
}
