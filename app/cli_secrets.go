package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// credentialsCommand is `cityops credentials …`: a tenant's integration credentials. Values are
// read from standard input and never printed.
func credentialsCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "credentials", Short: "Set, list (masked) and delete a tenant's integration credentials"}
	set := &cobra.Command{Use: "set SLUG NAME", Short: "Set a credential; the value is read from standard input", Args: cobra.ExactArgs(2),
		RunE: withApp(stderr, func(ctx context.Context, a *App, args []string, _ *cobra.Command) error {
			t, err := a.store.FindTenantBySlug(ctx, args[0])
			if err != nil {
				return err
			}
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			cred, err := a.secrets.PutCredential(ctx, t.ID, args[1], strings.TrimRight(line, "\r\n"), "cli")
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "credential %s of %s set (…%s)\n", cred.Name, t.Slug, cred.Last4)
			return nil
		})}
	list := &cobra.Command{Use: "list SLUG", Short: "List a tenant's credentials, masked", Args: cobra.ExactArgs(1),
		RunE: withApp(stderr, func(ctx context.Context, a *App, args []string, _ *cobra.Command) error {
			t, err := a.store.FindTenantBySlug(ctx, args[0])
			if err != nil {
				return err
			}
			cs, err := a.secrets.ListCredentials(ctx, t.ID)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tLAST4\tSET AT\tSET BY")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Last4, c.SetAt.Format("2006-01-02 15:04"), c.SetBy)
			}
			return tw.Flush()
		})}
	del := &cobra.Command{Use: "delete SLUG NAME", Short: "Delete a credential", Args: cobra.ExactArgs(2),
		RunE: withApp(stderr, func(ctx context.Context, a *App, args []string, _ *cobra.Command) error {
			t, err := a.store.FindTenantBySlug(ctx, args[0])
			if err != nil {
				return err
			}
			if err := a.secrets.DeleteCredential(ctx, t.ID, args[1]); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "credential %s of %s deleted\n", args[1], t.Slug)
			return nil
		})}
	cmd.AddCommand(set, list, del)
	return cmd
}
