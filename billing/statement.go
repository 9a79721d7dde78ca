package billing

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Statement is a tenant's yearly statement: what it owed at the start of the year, every entry of
// the year, and what it owes at the end. It reproduces the ledger: Opening plus the lines equals
// Closing, which equals the ledger's balance at the end of the year.
type Statement struct {
	Tenant      *tenants.Tenant `json:"tenant"`
	Year        int             `json:"year"`
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
	Opening     int64           `json:"opening_fen"`
	Closing     int64           `json:"closing_fen"`
	Lines       []StatementLine `json:"lines"`
	Totals      map[Kind]int64  `json:"totals"`
	Outstanding int64           `json:"outstanding_fen"`
	Credit      int64           `json:"credit_fen"`
	Instalments []*Instalment   `json:"instalments"`
	Ageing      *Ageing         `json:"ageing"`
	// Plan is the plan in effect at the end of the year (or now, for the current year), and
	// PlanChanges the changes that took effect during the year.
	Plan        string           `json:"plan"`
	PlanChanges []*PlanChange    `json:"plan_changes"`
	Usage       []MeterYearUsage `json:"usage"`
	GeneratedAt time.Time        `json:"generated_at"`
}

// StatementLine is one journal on a statement. Debit increases what is owed, Credit decreases it.
type StatementLine struct {
	JournalID int64     `json:"journal_id"`
	Date      time.Time `json:"date"`
	Kind      Kind      `json:"kind"`
	Category  string    `json:"category"`
	Memo      string    `json:"memo"`
	Reference string    `json:"reference,omitempty"`
	Debit     int64     `json:"debit_fen"`
	Credit    int64     `json:"credit_fen"`
	Balance   int64     `json:"balance_fen"`
}

// MeterYearUsage is a meter's total over the statement year.
type MeterYearUsage struct {
	Meter    string `json:"meter"`
	Quantity int64  `json:"quantity"`
}

// YearRange returns the start of year and of the next year, China time, as UTC.
func YearRange(year int) (time.Time, time.Time) {
	return time.Date(year, 1, 1, 0, 0, 0, 0, clock.China).UTC(), time.Date(year+1, 1, 1, 0, 0, 0, 0, clock.China).UTC()
}

// FindStatement builds t's statement for year, in one read transaction.
func (s *Service) FindStatement(ctx context.Context, t *tenants.Tenant, year int) (*Statement, error) {
	if year < 2000 || year > 2100 {
		return nil, errs.Field("year", msgYearMustBetween)
	}
	from, to := YearRange(year)
	st := &Statement{Tenant: t, Year: year, From: from, To: to, Totals: map[Kind]int64{}, GeneratedAt: s.now(), Plan: t.Plan}
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		open, err := balance(ctx, tx, t.ID, from)
		if err != nil {
			return err
		}
		st.Opening = open.Net
		js, err := findJournals(ctx, tx, JournalFilter{Tenant: t.ID, From: from, To: to})
		if err != nil {
			return err
		}
		run := st.Opening
		st.Lines = make([]StatementLine, 0, len(js))
		for _, j := range js {
			n := j.Net()
			run += n
			l := StatementLine{JournalID: j.ID, Date: j.OccurredAt, Kind: j.Kind, Category: j.Category, Memo: j.Memo, Reference: j.Reference, Balance: run}
			if n >= 0 {
				l.Debit = n
			} else {
				l.Credit = -n
			}
			st.Lines = append(st.Lines, l)
			st.Totals[j.Kind] += j.AmountFen
		}
		st.Closing = run
		end, err := balance(ctx, tx, t.ID, to)
		if err != nil {
			return err
		}
		if end.Net != st.Closing {
			return errs.E(errs.Internal, msgStatementDoesNotReproduceLedger, t.Slug, year, st.Closing, end.Net)
		}
		st.Outstanding, st.Credit = end.Outstanding, end.Credit
		if err := tx.NewSelect().Model(&st.Instalments).Where("tenant_id = ? AND year = ?", t.ID, year).Scan(ctx); err != nil {
			return err
		}
		asOf := to
		if now := s.now(); now.Before(asOf) {
			asOf = now
		}
		if st.Ageing, err = ageing(ctx, tx, t.ID, asOf); err != nil {
			return err
		}
		if st.Plan, err = planAt(ctx, tx, t.ID, asOf.Add(-time.Microsecond)); err != nil {
			return err
		}
		st.PlanChanges = []*PlanChange{}
		if err := tx.NewSelect().Model(&st.PlanChanges).Where("tenant_id = ? AND effective_from >= ? AND effective_from < ?", t.ID, from, to).
			OrderExpr("effective_from, id").Scan(ctx); err != nil {
			return err
		}
		var usage []MeterYearUsage
		if err := tx.NewSelect().Table("control.usage_rollups").ColumnExpr("meter, coalesce(sum(quantity), 0) AS quantity").
			Where("tenant_id = ? AND period = ? AND period_start >= ? AND period_start < ?", t.ID, Month, from, to).
			GroupExpr("meter").Scan(ctx, &usage); err != nil {
			return err
		}
		byMeter := map[string]int64{}
		for _, u := range usage {
			byMeter[u.Meter] = u.Quantity
		}
		for _, m := range s.meters {
			st.Usage = append(st.Usage, MeterYearUsage{Meter: m, Quantity: byMeter[m]})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Yuan formats fen as yuan with two decimals ("-1234.05"), exactly, without floats.
func Yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-fen)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// ParseYuan reads "1234.5", "1,234.56" or "1234" yuan into fen, exactly; more than two decimals
// is an error.
func ParseYuan(s string) (int64, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ',' && s[i] != '_' {
			clean = append(clean, s[i])
		}
	}
	str := string(clean)
	neg := false
	if len(str) > 0 && (str[0] == '-' || str[0] == '+') {
		neg = str[0] == '-'
		str = str[1:]
	}
	whole, frac := str, ""
	for i := 0; i < len(str); i++ {
		if str[i] == '.' {
			whole, frac = str[:i], str[i+1:]
			break
		}
	}
	if whole == "" || len(frac) > 2 || len(whole) > 13 {
		return 0, errs.Field("amount", msgNotAmountYuanMostTwo, trunc(s, 30))
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseUint(whole, 10, 64)
	f, err2 := strconv.ParseUint(frac, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errs.Field("amount", msgNotAmountYuanMostTwo, trunc(s, 30))
	}
	v := int64(w*100 + f)
	if neg {
		v = -v
	}
	return v, nil
}

var csvHeader = map[string][]string{
	"zh-CN": {"日期", "凭证号", "类型", "类别", "摘要", "参考号", "借方（元）", "贷方（元）", "余额（元）"},
	"en":    {"Date", "Journal", "Kind", "Category", "Memo", "Reference", "Debit (CNY)", "Credit (CNY)", "Balance (CNY)"},
}

// KindName is the display name of a journal kind.
func KindName(lang string, k Kind) string {
	zh := map[Kind]string{Advance: "垫资", Charge: "费用", Repayment: "还款", Adjustment: "调整"}
	if lang == "en" {
		return string(k)
	}
	return zh[k]
}

// WriteCSV writes st as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the
// Chinese text), in lang ("zh-CN" or "en"): an opening row, one row per journal, a closing row.
func (st *Statement) WriteCSV(w io.Writer, lang string) error {
	if lang != "en" {
		lang = "zh-CN"
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	date := func(t time.Time) string { return t.In(clock.China).Format("2006-01-02") }
	opening, closing := "期初余额", "期末余额"
	if lang == "en" {
		opening, closing = "Opening balance", "Closing balance"
	}
	cw.Write(csvHeader[lang])
	cw.Write([]string{date(st.From), "", "", "", opening, "", "", "", Yuan(st.Opening)})
	for _, l := range st.Lines {
		cw.Write([]string{date(l.Date), strconv.FormatInt(l.JournalID, 10), KindName(lang, l.Kind), l.Category, csvSafe(l.Memo), csvSafe(l.Reference),
			Yuan(l.Debit), Yuan(l.Credit), Yuan(l.Balance)})
	}
	cw.Write([]string{date(st.To.Add(-time.Second)), "", "", "", closing, "", "", "", Yuan(st.Closing)})
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a cell from being read as a formula by spreadsheet programs.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
