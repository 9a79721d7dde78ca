package exchange

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
)

// VendorSample is a vendor's file as the console's mapping editor sees it: its columns (the CSV
// or XLSX header row; in JSON the members of the records, and those of the history entries),
// its first rows, and every distinct value of each column, from which the editor fills its code
// tables. It is read with the import's own readers (flatRows, decodedText; JSON with the same
// decoding of values, jsonText).
type VendorSample struct {
	Name   string
	Format VendorFormat
	Data   []byte
	// Columns are the header row (CSV, XLSX) or the records' members (JSON), in file order.
	Columns []string
	// HistoryKeys are the JSON records' members holding arrays of objects (the history);
	// HistoryColumns the members of those objects. For CSV and XLSX, HistoryColumns are Columns.
	HistoryKeys    []string
	HistoryColumns []string
	// Sheets are an XLSX file's worksheets; HistorySheet, when not "", the one HistoryColumns
	// (and the history's values) are read from (WithHistorySheet).
	Sheets       []string
	HistorySheet string
	// Records counts the data rows (CSV, XLSX) or records (JSON).
	Records int
	// First are the first sampleFirst data rows (JSON: records' members that are not arrays).
	First []map[string]string

	values map[string]*distinct // "c:" record columns, "h:" history columns (JSON, a history sheet)
}

// distinct are a column's distinct values in the order first met.
type distinct struct {
	list []string
	seen map[string]bool
	more bool // more than maxDistinct values: list holds the first ones
}

// Bounds of a sample: the first rows it keeps, the distinct values per column it lists.
const (
	sampleFirst = 20
	maxDistinct = 500
	maxColumns  = 200
)

func (s *VendorSample) add(prefix, col, v string) {
	if v == "" || len(v) > 200 || !utf8.ValidString(v) {
		return
	}
	d := s.values[prefix+col]
	if d == nil {
		d = &distinct{seen: map[string]bool{}}
		s.values[prefix+col] = d
	}
	if d.seen[v] {
		return
	}
	if len(d.list) >= maxDistinct {
		d.more = true
		return
	}
	d.seen[v] = true
	d.list = append(d.list, v)
}

// Values are the distinct values of column col (of the history entries when history, in JSON),
// and whether there were more than listed.
func (s *VendorSample) Values(col string, history bool) ([]string, bool) {
	p := "c:"
	if history && (s.Format == VendorJSON || s.HistorySheet != "") {
		p = "h:"
	}
	d := s.values[p+col]
	if d == nil {
		return nil, false
	}
	return d.list, d.more
}

// File is the sample as a file to import.
func (s *VendorSample) File() VendorFile {
	data := s.Data
	return VendorFile{Name: s.Name, Format: s.Format, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// ReadSample reads a vendor's file (named name, whose extension names the format) for the
// mapping editor: a file that cannot be read is a 4xx error naming what is wrong.
func ReadSample(name string, data []byte) (*VendorSample, error) {
	format, err := VendorFormatOf(name)
	if err != nil {
		return nil, err
	}
	s := &VendorSample{Name: name, Format: format, Data: data, values: map[string]*distinct{}}
	if format == VendorJSON {
		err = s.readJSON()
	} else {
		err = s.readFlat()
	}
	if err != nil {
		return nil, err
	}
	if len(s.Columns) == 0 {
		return nil, errs.Field("file", msgVendorNoHeader)
	}
	if format == VendorXLSX {
		if x, err := excelize.OpenReader(bytes.NewReader(data)); err == nil {
			s.Sheets = x.GetSheetList()
			x.Close()
		}
	}
	return s, nil
}

// WithHistorySheet is the sample with its history read from the XLSX worksheet sheet (a name or
// a position from 1, as the mapping's history.sheet; "": the first sheet, as the records): its
// columns as HistoryColumns, its distinct values for the code tables. s itself is not changed (it
// is shared by the user's requests).
func (s *VendorSample) WithHistorySheet(sheet string) (*VendorSample, error) {
	if sheet == "" || s.Format != VendorXLSX {
		if s.HistorySheet == "" {
			return s, nil
		}
		c := *s
		c.HistorySheet, c.HistoryColumns = "", s.Columns
		return &c, nil
	}
	name, err := historySheet(s.Sheets, sheet)
	if err != nil {
		return nil, err
	}
	c := *s
	c.HistorySheet, c.HistoryColumns, c.values = name, nil, map[string]*distinct{}
	for k, d := range s.values {
		if strings.HasPrefix(k, "c:") {
			c.values[k] = d
		}
	}
	x, err := excelize.OpenReader(bytes.NewReader(s.Data))
	if err != nil {
		return nil, errs.Field("file", msgVendorXLSX)
	}
	defer x.Close()
	rows, err := x.Rows(name)
	if err != nil {
		return nil, errs.Field("file", msgVendorXLSX)
	}
	defer rows.Close()
	read := sheetReader(rows)
	header, _, _, err := readHeader(read, nil)
	if err != nil {
		return nil, err
	}
	if header == nil {
		return nil, errs.Field("history.sheet", msgVendorSheetNoHeader, name)
	}
	idx := make([]string, 0, len(header))
	for col, i := range header {
		for len(idx) <= i {
			idx = append(idx, "")
		}
		idx[i] = col
	}
	for _, col := range idx {
		if col != "" && len(c.HistoryColumns) < maxColumns {
			c.HistoryColumns = append(c.HistoryColumns, col)
		}
	}
	for {
		cells, err := read()
		if errors.Is(err, io.EOF) {
			return &c, nil
		}
		if err != nil {
			return nil, err
		}
		for _, col := range c.HistoryColumns {
			if i := header[col]; i < len(cells) {
				c.add("h:", col, strings.TrimSpace(cells[i]))
			}
		}
	}
}

func (s *VendorSample) readFlat() error {
	read, closer, err := flatRows(bytes.NewReader(s.Data), s.Format)
	if err != nil {
		return err
	}
	defer closer.Close()
	var header []string
	for {
		row, err := read()
		if errors.Is(err, io.EOF) {
			return errs.Field("file", msgVendorNoHeader)
		}
		if err != nil {
			return err
		}
		if !blankRow(row) {
			header = row
			break
		}
	}
	idx := map[string]int{}
	for i, c := range header {
		c = strings.TrimSpace(strings.TrimPrefix(c, "\uFEFF"))
		if _, dup := idx[c]; dup || c == "" || len(s.Columns) >= maxColumns {
			continue
		}
		idx[c] = i
		s.Columns = append(s.Columns, c)
	}
	s.HistoryColumns = s.Columns
	for {
		row, err := read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if blankRow(row) {
			continue
		}
		s.Records++
		var first map[string]string
		if len(s.First) < sampleFirst {
			first = map[string]string{}
			s.First = append(s.First, first)
		}
		for _, c := range s.Columns {
			v := ""
			if i := idx[c]; i < len(row) {
				v = strings.TrimSpace(row[i])
			}
			s.add("c:", c, v)
			if first != nil {
				first[c] = v
			}
		}
	}
}

func (s *VendorSample) readJSON() error {
	d := json.NewDecoder(bytes.NewReader(s.Data))
	d.UseNumber()
	if t, err := d.Token(); err != nil || t != json.Delim('[') {
		return errs.Field("file", msgVendorJSONArray)
	}
	seen := map[string]bool{}
	seenH := map[string]bool{}
	for d.More() {
		var obj map[string]any
		if err := d.Decode(&obj); err != nil {
			return errs.Field("file", msgVendorJSON, s.Records+1)
		}
		s.Records++
		var first map[string]string
		if len(s.First) < sampleFirst {
			first = map[string]string{}
			s.First = append(s.First, first)
		}
		// Members in a stable order: a map has none, and the file's is lost by decoding.
		for _, k := range sortedKeys(obj) {
			if entries, ok := historyEntries(obj[k]); ok {
				if !slices.Contains(s.HistoryKeys, k) {
					s.HistoryKeys = append(s.HistoryKeys, k)
				}
				for _, e := range entries {
					for _, hk := range sortedKeys(e) {
						if !seenH[hk] && len(s.HistoryColumns) < maxColumns {
							seenH[hk] = true
							s.HistoryColumns = append(s.HistoryColumns, hk)
						}
						s.add("h:", hk, jsonText(e[hk]))
					}
				}
				continue
			}
			if !seen[k] && len(s.Columns) < maxColumns {
				seen[k] = true
				s.Columns = append(s.Columns, k)
			}
			v := jsonText(obj[k])
			s.add("c:", k, v)
			if first != nil {
				first[k] = v
			}
		}
	}
	if _, err := d.Token(); err != nil {
		return errs.Field("file", msgVendorJSON, s.Records+1)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// historyEntries reports whether v is an array of objects (a record's history).
func historyEntries(v any) ([]map[string]any, bool) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, false
	}
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		out = append(out, o)
	}
	return out, true
}

// headerGuesses are the column headers the 数字城管 systems commonly give each of our fields,
// best first: the editor preselects the first the file has when no mapping names one.
var headerGuesses = map[string][]string{
	FieldRecordID:      {"案件编号", "案卷标识", "案件标识", "案卷编号", "任务号", "案件号", "编号", "ID", "id"},
	FieldNumber:        {"案卷号", "案件编号", "任务号", "案件号"},
	FieldReportedAt:    {"上报时间", "发现时间", "立案时间", "受理时间", "发生时间", "创建时间"},
	FieldSource:        {"问题来源", "案件来源", "来源"},
	FieldKind:          {"案件类型", "问题类型", "类型"},
	FieldClassCode:     {"小类", "小类编码", "小类代码", "问题类别", "案件小类", "小类名称"},
	FieldDescription:   {"问题描述", "案件描述", "描述", "内容"},
	FieldAddress:       {"地址", "位置描述", "发生地址", "详细地址", "位置"},
	FieldLon:           {"经度", "X坐标", "横坐标", "lon", "lng", "x"},
	FieldLat:           {"纬度", "Y坐标", "纵坐标", "lat", "y"},
	FieldGridCode:      {"所属网格", "网格编码", "单元网格", "网格"},
	FieldDepartment:    {"处置部门", "责任单位", "责任部门", "处置单位"},
	FieldReporterName:  {"举报人", "举报人姓名", "上报人", "联系人"},
	FieldReporterPhone: {"联系电话", "举报人电话", "电话", "手机"},
}

// historyGuesses are the same for the history rows' fields.
var historyGuesses = map[string][]string{
	HistoryState:      {"环节", "环节名称", "状态", "案件状态", "当前环节", "操作"},
	HistoryAt:         {"操作时间", "处理时间", "办理时间", "时间"},
	HistoryActor:      {"操作人", "处理人", "办理人"},
	HistoryDepartment: {"操作部门", "处理单位", "办理部门", "处理部门"},
	HistoryRemark:     {"意见", "处理意见", "办理意见", "备注"},
	HistoryOverdue:    {"是否超时", "超时", "是否超期", "超期标志", "超时标志"},
}

// historyKeyGuesses name the JSON member that usually holds the history.
var historyKeyGuesses = []string{"流转记录", "history", "处理记录", "办理记录", "环节记录"}

// stateGuesses are the steps (环节) the 数字城管 systems commonly name, and our actions.
var stateGuesses = map[string]string{
	"上报": "report", "案件上报": "report", "受理": "accept", "案件受理": "accept", "核实派遣": "send_verify", "核实": "verify",
	"立案": "file", "案件立案": "file", "不予立案": "void", "作废": "void", "派遣": "dispatch", "任务派遣": "dispatch",
	"处置": "take", "任务处理": "take", "处置反馈": "feedback", "处理反馈": "feedback", "核查派遣": "send_check", "核查": "check",
	"结案": "close", "返工": "rework", "督办": "supervise", "申请延期": "request_extension", "同意延期": "approve_extension",
	"自处置": "self_handle", "自行处置": "self_handle",
}

// sourceGuesses and kindGuesses are the same for sources and kinds.
var (
	sourceGuesses = map[string]string{"监督员上报": "inspector", "监督员": "inspector", "公众举报": "citizen", "公众": "citizen", "市民": "citizen",
		"12345热线": "hotline", "12345": "hotline", "热线": "hotline", "视频监控": "video", "视频": "video", "媒体曝光": "media", "媒体": "media",
		"传感器": "sensor", "物联网": "sensor", "转办": "referral"}
	kindGuesses = map[string]string{"部件": "component", "事件": "event"}
)

// guessColumn is the first of guesses that is one of cols, or "".
func guessColumn(cols, guesses []string) string {
	for _, g := range guesses {
		if slices.Contains(cols, g) {
			return g
		}
	}
	return ""
}

// samples keeps each user's uploaded sample between the editor's steps, in this process's memory,
// for sampleLife after its last use.
//
// Why memory, not the database or a re-post: a vendor's export carries reporters' names and phone
// numbers in clear, which this platform otherwise keeps only encrypted with the tenant's key; a
// sample written to the tenant's database would land in its backups and exports in clear, and
// one on disk would outlive the session. Re-posting the file on every step would make the user
// choose it again after each server-rendered page (a browser does not keep a file input across
// pages). Import wizards keep the upload server-side under a short-lived token; here it stays in
// memory, one per user and tenant, bounded in number, and a sample that is gone (a restart,
// another replica, an hour unused) costs one upload again, which the page says.
type samples struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[sampleKey]*heldSample
}

type sampleKey struct{ tenant, identity uuid.UUID }

type heldSample struct {
	token string
	used  time.Time
	s     *VendorSample
}

// Bounds of the samples held: how long one is kept unused, how many and how many bytes at most
// (the oldest unused go first).
const (
	sampleLife     = time.Hour
	maxSamples     = 16
	maxSampleBytes = 64 << 20
)

func newSamples(now func() time.Time) *samples {
	if now == nil {
		now = time.Now
	}
	return &samples{now: now, m: map[sampleKey]*heldSample{}}
}

// put keeps s as the user's sample (replacing theirs) and returns its token.
func (ss *samples) put(k sampleKey, s *VendorSample) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.expire()
	delete(ss.m, k)
	size := func() int {
		n := len(s.Data)
		for _, h := range ss.m {
			n += len(h.s.Data)
		}
		return n
	}
	for len(ss.m) > 0 && (len(ss.m) >= maxSamples || size() > maxSampleBytes) {
		var oldest sampleKey
		var at time.Time
		for key, h := range ss.m {
			if at.IsZero() || h.used.Before(at) {
				oldest, at = key, h.used
			}
		}
		delete(ss.m, oldest)
	}
	ss.m[k] = &heldSample{token: tok, used: ss.now(), s: s}
	return tok
}

// get returns the user's sample of token, or nil when it is gone.
func (ss *samples) get(k sampleKey, token string) *VendorSample {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.expire()
	h := ss.m[k]
	if h == nil || h.token != token {
		return nil
	}
	h.used = ss.now()
	return h.s
}

func (ss *samples) expire() {
	now := ss.now()
	for k, h := range ss.m {
		if now.Sub(h.used) > sampleLife {
			delete(ss.m, k)
		}
	}
}
