package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/spf13/cobra"
)

// billingCommand is `cityops billing …`: the operator's billing work on the command line. Amounts
// are given in yuan with at most two decimals and stored exactly in fen.
func billingCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{Use: "billing", Short: "Plans, the advance-funding ledger, statements and Stripe"}
	run := func(fn appCommand) func(*cobra.Command, []string) error { return withApp(stderr, fn) }
	tenant := func(ctx context.Context, a *App, slug string) (*tenants.Tenant, error) {
		return a.store.FindTenantBySlug(ctx, slug)
	}
	printJSON := func(v any) error {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}

	plans := &cobra.Command{Use: "plans", Short: "List the plans", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, a *App, _ []string, _ *cobra.Command) error {
			ps, err := a.billing.FindPlans(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tNAME\tFEE/MONTH\tMODULES")
			for _, p := range ps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Code, p.NameZH, billing.Yuan(p.MonthlyFeeFen), strings.Join(p.Modules, ","))
			}
			return tw.Flush()
		})}

	setPlan := &cobra.Command{Use: "set-plan SLUG [PLAN]", Short: "Put a tenant on a plan and switch modules (--module monitoring=on)", Args: cobra.RangeArgs(1, 2),
		RunE: run(func(ctx context.Context, a *App, args []string, c *cobra.Command) error {
			t, err := tenant(ctx, a, args[0])
			if err != nil {
				return err
			}
			plan := ""
			if len(args) == 2 {
				plan = args[1]
			}
			mods, _ := c.Flags().GetStringSlice("module")
			var switches map[string]bool
			for _, m := range mods {
				name, v, ok := strings.Cut(m, "=")
				if !ok || (v != "on" && v != "off") {
					return errs.Field("module", msgWriteModuleSwitchesNameName, m)
				}
				if switches == nil {
					switches = map[string]bool{}
				}
				switches[name] = v == "on"
			}
			e, err := a.billing.SetPlan(ctx, t, plan, switches)
			if err != nil {
				return err
			}
			return printJSON(e)
		})}
	setPlan.Flags().StringSlice("module", nil, "module switch, name=on or name=off (repeatable)")

	changePlan := &cobra.Command{Use: "change-plan SLUG PLAN", Short: "Change a tenant's plan from a month (--effective YYYY-MM, default next month); moves its Stripe subscription", Args: cobra.ExactArgs(2),
		RunE: run(func(ctx context.Context, a *App, args []string, c *cobra.Command) error {
			t, err := tenant(ctx, a, args[0])
			if err != nil {
				return err
			}
			r := billing.PlanChangeRequest{Plan: args[1]}
			r.Effective, _ = c.Flags().GetString("effective")
			r.Memo, _ = c.Flags().GetString("memo")
			ch, err := a.billing.ChangePlan(ctx, t, r)
			if err != nil {
				return err
			}
			what := "recorded"
			if !ch.Recorded {
				what = "already so; nothing recorded"
			}
			fmt.Fprintf(stdout, "%s: %s → %s from %s (%s)", t.Slug, ch.FromPlan, ch.ToPlan, ch.Month(), what)
			if ch.Stripe == "queued" {
				fmt.Fprint(stdout, "; the Stripe subscription moves then")
			}
			fmt.Fprintln(stdout)
			return nil
		})}
	changePlan.Flags().String("effective", "", "first month on the new plan, YYYY-MM (default next month; the current month if not yet rated)")
	changePlan.Flags().String("memo", "", "why (contract, decision)")

	planChanges := &cobra.Command{Use: "plan-changes SLUG", Short: "A tenant's plan changes, past and scheduled", Args: cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, a *App, args []string, _ *cobra.Command) error {
			t, err := tenant(ctx, a, args[0])
			if err != nil {
				return err
			}
			cs, err := a.billing.FindPlanChanges(ctx, t.ID)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FROM MONTH\tPLAN\tWAS\tBY\tMEMO")
			for _, ch := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ch.Month(), ch.ToPlan, ch.FromPlan, ch.RequestedBy, ch.Memo)
			}
			return tw.Flush()
		})}

	subscribe := &cobra.Command{Use: "subscribe SLUG", Short: "Queue a tenant's Stripe subscription (one per tenant; a plan change moves it)", Args: cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, a *App, args []string, _ *cobra.Command) error {
			t, err := tenant(ctx, a, args[0])
			if err != nil {
				return err
			}
			if err := a.billing.Subscribe(ctx, t); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "queued; `cityops billing outbox --drain` or a running server sends it")
			return nil
		})}

	entry := func(use string, kind billing.Kind, short string) *cobra.Command {
		cmd := &cobra.Command{Use: use + " SLUG", Short: short, Args: cobra.ExactArgs(1),
			RunE: run(func(ctx context.Context, a *App, args []string, c *cobra.Command) error {
				t, err := tenant(ctx, a, args[0])
				if err != nil {
					return err
				}
				f := c.Flags()
				amount, _ := f.GetString("amount")
				fen, err := billing.ParseYuan(amount)
				if err != nil {
					return err
				}
				e := billing.Entry{Kind: kind, AmountFen: fen, Source: "cli"}
				e.Category, _ = f.GetString("category")
				e.Memo, _ = f.GetString("memo")
				e.Reference, _ = f.GetString("reference")
				e.IdempotencyKey, _ = f.GetString("key")
				if d, _ := f.GetString("date"); d != "" {
					if e.OccurredAt, err = time.ParseInLocation("2006-01-02", d, clock.China); err != nil {
						return errs.Field("date", msgDateNotYyyyMmDd, d)
					}
				}
				j, err := a.billing.Post(ctx, t, e)
				if err != nil {
					return err
				}
				b, err := a.billing.FindBalance(ctx, t.ID, time.Time{})
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "journal %d: %s %s ¥%s; %s now owes ¥%s (credit ¥%s)\n", j.ID, j.Kind, j.Category, billing.Yuan(j.AmountFen), t.Slug, billing.Yuan(b.Outstanding), billing.Yuan(b.Credit))
				return nil
			})}
		f := cmd.Flags()
		f.String("amount", "", "amount in yuan, e.g. 1250000.00")
		f.String("category", "", "category (advance: fit_out, operation, cloud, other; charge: usage, plan, interest, other; repayment: bank, stripe, other; adjustment: correction, waiver, credit, other)")
		f.String("memo", "", "what it is for")
		f.String("reference", "", "bank or contract reference")
		f.String("date", "", "accounting date YYYY-MM-DD (default today)")
		f.String("key", "", "idempotency key: the same key again posts nothing new")
		cmd.MarkFlagRequired("amount")
		return cmd
	}

	schedule := &cobra.Command{Use: "schedule SLUG", Short: "Set a tenant's repayment schedule (yearly instalments)", Args: cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, a *App, args []string, c *cobra.Command) error {
			t, err := tenant(ctx, a, args[0])
			if err != nil {
				return err
			}
			f := c.Flags()
			amount, _ := f.GetString("principal")
			var r billing.ScheduleRequest
			if r.PrincipalFen, err = billing.ParseYuan(amount); err != nil {
				return err
			}
			r.Years, _ = f.GetInt("years")
			if r.StartYear, _ = f.GetInt("start-year"); r.StartYear == 0 {
				r.StartYear = a.store.Now().In(clock.China).Year()
			}
			r.RateBP, _ = f.GetInt("rate-bp")
			r.DueMonth, _ = f.GetInt("due-month")
			s, err := a.billing.PutSchedule(ctx, t, r)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "YEAR\tDUE\tPRINCIPAL\tINTEREST\tAMOUNT")
			for _, in := range s.Instalments {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", in.Year, in.DueOn.In(clock.China).Format("2006-01-02"), billing.Yuan(in.PrincipalFen), billing.Yuan(in.InterestFen), billing.Yuan(in.AmountFen()))
			}
			return tw.Flush()
		})}
	sf := schedule.Flags()
	sf.String("principal", "", "principal in yuan")
	sf.Int("years", 5, "number of yearly instalments")
	sf.Int("start-year", 0, "year of the first instalment (default this year, China time)")
	sf.Int("rate-bp", 0, "agreed simple yearly rate in basis points (350 = 3.5%)")
	sf.Int("due-month", 12, "month in which each instalment falls due")
	schedule.MarkFlagRequired("principal")

	issue := &cobra.Command{Use: "issue SLUG YEAR", Short: "Issue a year's instalment (charges its interest; invoices it through Stripe when configured)", Args: cobra.ExactArgs(2),
		RunE: run(func(ctx context.Context, a *App, args []string, _ *cobra.Command) error {
			t, err := tenant(ctx, a, args[0])
			if err != nil {
				return err
			}
			year, err := strconv.Atoi(args[1])
			if err != nil {
				return errs.Field("year", msgYearNotNumber, args[1])
			}
			in, err := a.billing.IssueInstalment(ctx, t, year)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "instalment %d of %s: ¥%s, %s\n", in.Year, t.Slug, billing.Yuan(in.AmountFen()), in.Status)
			return nil
		})}

	balances := &cobra.Command{Use: "balances", Short: "Every tenant's balance and ageing", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, a *App, _ []string, c *cobra.Command) error {
			ts, err := a.store.FindTenants(ctx, tenants.TenantFilter{})
			if err != nil {
				return err
			}
			ov, err := a.billing.Overview(ctx, ts, time.Time{})
			if err != nil {
				return err
			}
			if j, _ := c.Flags().GetBool("json"); j {
				return printJSON(ov)
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "TENANT\tPLAN\tADVANCED\tREPAID\tOUTSTANDING\tCREDIT\tOVERDUE\t>365 DAYS\t")
			for _, r := range ov {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Tenant.Slug, r.Tenant.Plan, billing.Yuan(r.Advanced), billing.Yuan(r.Repaid),
					billing.Yuan(r.Outstanding), billing.Yuan(r.Credit), billing.Yuan(r.Ageing.Overdue), billing.Yuan(r.Ageing.Over365))
			}
			return tw.Flush()
		})}
	balances.Flags().Bool("json", false, "print JSON")

	statement := &cobra.Command{Use: "statement SLUG", Short: "A tenant's yearly statement as CSV (default) or JSON", Args: cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, a *App, args []string, c *cobra.Command) error {
			t, err := tenant(ctx, a, args[0])
			if err != nil {
				return err
			}
			f := c.Flags()
			year, _ := f.GetInt("year")
			if year == 0 {
				year = a.store.Now().In(clock.China).Year()
			}
			format, _ := f.GetString("format")
			lang, _ := f.GetString("lang")
			out, _ := f.GetString("output")
			st, err := a.billing.FindStatement(ctx, t, year)
			if err != nil {
				return err
			}
			w := stdout
			if out != "" {
				file, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
				if err != nil {
					return err
				}
				defer file.Close()
				w = file
			}
			switch format {
			case "csv":
				return st.WriteCSV(w, lang)
			case "json":
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return errs.Field("format", msgFormatNotCsvJsonPrintable, format)
		})}
	stf := statement.Flags()
	stf.Int("year", 0, "statement year (default this year, China time)")
	stf.String("format", "csv", "csv or json")
	stf.String("lang", "zh-CN", "zh-CN or en")
	stf.StringP("output", "o", "", "write to this file instead of standard output")

	rate := &cobra.Command{Use: "rate", Short: "Charge every tenant its plan fee and overage for a month (rating twice charges once)", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, a *App, _ []string, c *cobra.Command) error {
			month, _ := c.Flags().GetString("month")
			if month == "" {
				month = clock.StartOfMonth(a.store.Now()).AddDate(0, -1, 0).Format("2006-01")
			}
			rs, err := a.billing.RateAll(ctx, month)
			if err != nil {
				return err
			}
			for _, r := range rs {
				fmt.Fprintf(stdout, "%s %s: plan ¥%s, overage ¥%s\n", r.Month, r.Tenant, billing.Yuan(r.PlanFeeFen), billing.Yuan(r.UsageFen))
			}
			return nil
		})}
	rate.Flags().String("month", "", "month to rate, YYYY-MM (default last month, China time)")

	outbox := &cobra.Command{Use: "outbox", Short: "Show the Stripe outbox; --drain sends what is due now", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, a *App, _ []string, c *cobra.Command) error {
			if d, _ := c.Flags().GetBool("drain"); d {
				n, err := a.billing.DrainOutbox(ctx)
				fmt.Fprintf(stdout, "%d Stripe calls made\n", n)
				if err != nil {
					return err
				}
			}
			status, _ := c.Flags().GetString("status")
			items, err := a.billing.FindOutbox(ctx, status, 50)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tATTEMPTS\tKEY\tLAST ERROR")
			for _, it := range items {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", it.ID, it.Kind, it.Status, it.Attempts, it.IdempotencyKey, it.LastError)
			}
			return tw.Flush()
		})}
	outbox.Flags().Bool("drain", false, "make the due Stripe calls now")
	outbox.Flags().String("status", "", "pending, done or dead")

	sync := &cobra.Command{Use: "stripe-sync", Short: "Queue the Stripe meters and metered prices of every plan", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, a *App, _ []string, _ *cobra.Command) error {
			if err := a.billing.SyncCatalog(ctx); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "queued; `cityops billing outbox --drain` or a running server sends them")
			return nil
		})}

	root.AddCommand(plans, setPlan, changePlan, planChanges, subscribe,
		entry("advance", billing.Advance, "Record money the operator advanced for a tenant"),
		entry("charge", billing.Charge, "Record a charge to a tenant"),
		entry("repay", billing.Repayment, "Record a repayment received from a tenant"),
		entry("adjust", billing.Adjustment, "Record an adjustment (a negative amount credits the tenant)"),
		schedule, issue, balances, statement, rate, outbox, sync)
	return root
}
