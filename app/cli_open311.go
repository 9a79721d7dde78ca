package app

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/tenants"
	"github.com/spf13/cobra"
)

// open311Command is `cityops open311 …`: the api keys of a tenant's Open311 clients and the
// services (minor classes) it opens to the public.
func open311Command(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "open311", Short: "Open311 GeoReport v2: client api keys and public services"}
	var slug, name string
	tenantOf := func(ctx context.Context, a *App) (*tenants.Tenant, error) {
		if slug == "" {
			return nil, errs.Field("tenant", msgGiveTenantTenantSlug)
		}
		return a.store.FindTenantBySlug(ctx, slug)
	}
	keys := &cobra.Command{Use: "keys", Short: "Create, list and revoke the api keys of a tenant's Open311 clients"}
	create := &cobra.Command{Use: "create", Short: "Issue an api key for a client; it is printed once and never again", Args: cobra.NoArgs,
		RunE: withApp(stderr, func(ctx context.Context, a *App, _ []string, _ *cobra.Command) error {
			t, err := tenantOf(ctx, a)
			if err != nil {
				return err
			}
			key, k, err := a.open311.CreateKey(ctx, t, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "api key %s for %q of %s (shown once; store it now):\n", k.ID, k.Name, t.Slug)
			fmt.Fprintln(stdout, key)
			return nil
		})}
	create.Flags().StringVar(&name, "name", "", "the client's name (e.g. 12345 hotline, city app)")
	list := &cobra.Command{Use: "list", Short: "List a tenant's api keys (never the keys themselves)", Args: cobra.NoArgs,
		RunE: withApp(stderr, func(ctx context.Context, a *App, _ []string, _ *cobra.Command) error {
			t, err := tenantOf(ctx, a)
			if err != nil {
				return err
			}
			ks, err := a.open311.FindKeys(ctx, t)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tCREATED\tREVOKED")
			for _, k := range ks {
				revoked := "-"
				if k.RevokedAt != nil {
					revoked = k.RevokedAt.Format("2006-01-02 15:04")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.Format("2006-01-02 15:04"), revoked)
			}
			return tw.Flush()
		})}
	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke an api key", Args: cobra.ExactArgs(1),
		RunE: withApp(stderr, func(ctx context.Context, a *App, args []string, _ *cobra.Command) error {
			t, err := tenantOf(ctx, a)
			if err != nil {
				return err
			}
			k, err := a.open311.RevokeKey(ctx, t, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "api key %s (%s) of %s revoked\n", k.ID, k.Name, t.Slug)
			return nil
		})}
	keys.AddCommand(create, list, revoke)

	services := &cobra.Command{Use: "services", Short: "List, add and remove the services (minor classes) open to the public"}
	slist := &cobra.Command{Use: "list", Short: "List a tenant's public services", Args: cobra.NoArgs,
		RunE: withApp(stderr, func(ctx context.Context, a *App, _ []string, _ *cobra.Command) error {
			t, err := tenantOf(ctx, a)
			if err != nil {
				return err
			}
			ss, err := a.open311.Services(ctx, t)
			if err != nil {
				return err
			}
			for _, s := range ss {
				fmt.Fprintf(stdout, "%s\t%s\n", s.Code, s.Name)
			}
			return nil
		})}
	serviceCmd := func(use, short string, fn func(*open311.Service) func(context.Context, *tenants.Tenant, string) error) *cobra.Command {
		return &cobra.Command{Use: use + " SERVICE_CODE", Short: short, Args: cobra.ExactArgs(1),
			RunE: withApp(stderr, func(ctx context.Context, a *App, args []string, _ *cobra.Command) error {
				t, err := tenantOf(ctx, a)
				if err != nil {
					return err
				}
				if err := fn(a.open311)(ctx, t, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s: %s %s\n", t.Slug, use, args[0])
				return nil
			})}
	}
	add := serviceCmd("add", "Open a minor class to the public (SERVICE_CODE is event-0101 or component-0101)",
		func(s *open311.Service) func(context.Context, *tenants.Tenant, string) error { return s.AddServiceCode })
	remove := serviceCmd("remove", "Close a service to the public",
		func(s *open311.Service) func(context.Context, *tenants.Tenant, string) error {
			return s.RemoveServiceCode
		})
	services.AddCommand(slist, add, remove)

	for _, c := range []*cobra.Command{create, list, revoke, slist, add, remove} {
		c.Flags().StringVar(&slug, "tenant", "", "the tenant's slug (its jurisdiction_id)")
	}
	cmd.AddCommand(keys, services)
	return cmd
}
