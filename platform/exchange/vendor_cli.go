package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// entityFlag is the import commands' --entity: grids, components, departments or staff (cases
// when not given).
var entityFlag = []module.Flag{{Name: "entity", Usage: "what the file holds: cases (the default), departments, grids, components or staff"}}

// importCommand is "cityops exchange import|dry-run <tenant> <mapping.json> <file> [--entity e]":
// it saves the mapping when it changed, imports (or dry-runs) the file with a progress bar on a
// terminal (cases) or at once (the other entities), and prints the report.
func importCommand(ctx context.Context, im *Importer, mappingFile, dataFile, entity string, dry bool, out io.Writer) error {
	if im == nil {
		return errors.New("exchange: no importer")
	}
	m, err := loadMapping(ctx, im, mappingFile, out)
	if err != nil {
		return err
	}
	if entity != "" && entity != string(EntityCases) {
		e, err := ParseEntity(entity)
		if err != nil {
			return err
		}
		rep, err := im.ImportEntity(ctx, VendorFile{Name: filepath.Base(dataFile), Open: func() (io.ReadCloser, error) { return os.Open(dataFile) }},
			EntityOptions{Vendor: m.Vendor, MappingVersion: m.Version, Entity: e, DryRun: dry})
		if err != nil {
			return err
		}
		return printReport(out, rep)
	}
	opts := ImportOptions{Vendor: m.Vendor, MappingVersion: m.Version, DryRun: dry}
	var finish func()
	opts.Progress, finish = progressBar(out)
	rep, err := im.Import(ctx, VendorFile{Name: filepath.Base(dataFile), Open: func() (io.ReadCloser, error) { return os.Open(dataFile) }}, opts)
	finish()
	if err != nil {
		return err
	}
	return printReport(out, rep)
}

// progressBar is a progress bar of an import's (or pull's) phases on out when out is a
// terminal, and what finishes it; nil and a no-op otherwise.
func progressBar(out io.Writer) (func(ImportProgress), func()) {
	f, ok := out.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	phase := ""
	finish := func() {
		if bar != nil {
			_ = bar.Finish()
			fmt.Fprintln(out)
		}
	}
	return func(p ImportProgress) {
		if p.Phase != phase {
			finish()
			phase = p.Phase
			bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(out), progressbar.OptionShowCount(),
				progressbar.OptionSetDescription(map[string]string{"pull": "pulling records", "check": "checking records", "write": "importing records"}[p.Phase]))
		}
		_ = bar.Set(p.Records)
	}, finish
}

// loadMapping reads the mapping file, saves it as the vendor's next version when it differs from
// the newest, and says which version the command runs with.
func loadMapping(ctx context.Context, im *Importer, file string, out io.Writer) (*Mapping, error) {
	body, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m, err := ParseMapping(body)
	if err != nil {
		return nil, err
	}
	if m, err = im.EnsureMapping(ctx, m); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "mapping %s version %d\n", m.Vendor, m.Version)
	return m, nil
}

// printReport writes the report as the command line shows it: the summary, the values that could
// not be mapped, then the problems row by row.
func printReport(out io.Writer, rep *ImportReport) error {
	fmt.Fprintln(out, rep.Summary(msg.EN))
	if rep.RunID != "" {
		fmt.Fprintf(out, "run %s, file sha256 %s", rep.RunID, rep.SHA256)
		if rep.Resumed > 0 {
			fmt.Fprintf(out, ", continued after %d records committed before", rep.Resumed)
		}
		fmt.Fprintln(out)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if len(rep.Unmapped) > 0 {
		fmt.Fprintln(tw, "UNMAPPED VALUE\tCOLUMN\tCOUNT\tFIRST ROW")
		for _, u := range rep.Unmapped {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", u.Value, u.Column, u.Count, rowOn(u.FirstSheet, u.FirstRow))
		}
		fmt.Fprintln(tw)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintln(tw, "ROW\tCOLUMN\tPROBLEM")
		for _, p := range rep.Problems {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", rowOn(p.Sheet, p.Row), p.Column, p.Message)
		}
		if rep.ProblemCount > len(rep.Problems) {
			fmt.Fprintf(tw, "…\t\t%d more\n", rep.ProblemCount-len(rep.Problems))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !rep.OK() {
		return errRejected
	}
	return nil
}

var errRejected = errors.New("nothing was imported: see the problems above")

// flagArg is the value of a command's flag at position i of its arguments, "" when absent.
func flagArg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

// rowOn is a row's number, after its worksheet's name when it is not on the first.
func rowOn(sheet string, row int) string {
	if sheet == "" {
		return strconv.Itoa(row)
	}
	return sheet + "!" + strconv.Itoa(row)
}
