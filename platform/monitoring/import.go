package monitoring

import (
	"context"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

var deviceColumns = []tabular.Column{
	{Name: "code", Aliases: []string{"设备编码", "设备编号", "编码", "编号"}, Required: true},
	{Name: "name", Aliases: []string{"名称", "设备名称"}},
	{Name: "type", Aliases: []string{"类型", "设备类型"}, Required: true},
	{Name: "lon", Aliases: []string{"经度", "longitude", "x"}, Required: true},
	{Name: "lat", Aliases: []string{"纬度", "latitude", "y"}, Required: true},
	{Name: "grid_code", Aliases: []string{"网格编码", "所在网格", "单元网格"}},
	{Name: "component_code", Aliases: []string{"部件编码", "关联部件"}},
}

// ImportedDevice is a device an import created, with its token (shown this once).
type ImportedDevice struct {
	Code  string `json:"code"`
	Token string `json:"token"`
}

// ImportDevices creates devices from a CSV or XLSX table with code (设备编码), type (类型: a type
// code or its Chinese name), lon (经度), lat (纬度) and optional name, grid_code and
// component_code. Every row is checked as CreateDevice checks one; nothing is written unless
// every row passes (a code already taken, in the file or the tenant, fails its row), nor on a
// dry run. The new devices' tokens come back this once. Audited as monitoring.device.import.
func (s *Service) ImportDevices(ctx context.Context, data []byte, format string, dryRun bool) (*tabular.Report, []ImportedDevice, error) {
	t, err := tabular.Read(data, tabular.Format(format))
	if err != nil {
		return nil, nil, err
	}
	idx, err := t.Index(deviceColumns)
	if err != nil {
		return nil, nil, err
	}
	rep := &tabular.Report{DryRun: dryRun}
	var cs []*checked
	var rowOf []int
	seen := map[string]int{}
	for i, r := range t.Rows {
		if tabular.Blank(r) {
			continue
		}
		n := i + 2
		rep.Rows++
		cell := func(c string) string { return strings.TrimSpace(tabular.Cell(r, idx, c)) }
		code := cell("code")
		in := DeviceInput{Code: code, Type: cell("type")}
		name, grid, comp := cell("name"), cell("grid_code"), cell("component_code")
		in.Name, in.GridCode, in.ComponentCode = &name, &grid, &comp
		lon, err1 := strconv.ParseFloat(cell("lon"), 64)
		lat, err2 := strconv.ParseFloat(cell("lat"), 64)
		if err1 != nil || err2 != nil {
			rep.Add(n, "lon", code, msgPointNotInChina, textutil.Truncate(cell("lon"), 20), textutil.Truncate(cell("lat"), 20))
			continue
		}
		in.Lon, in.Lat = &lon, &lat
		c, err := check(in, nil)
		if err != nil {
			rep.AddErr(n, errs.FieldOf(err), code, err)
			continue
		}
		if prev, dup := seen[code]; dup {
			rep.Add(n, "code", code, msgCodeTwiceInFile, prev)
			continue
		}
		seen[code] = n
		cs = append(cs, c)
		rowOf = append(rowOf, n)
	}
	if err := s.resolve(ctx, cs, func(i int, err error) { rep.AddErr(rowOf[i], errs.FieldOf(err), cs[i].d.Code, err) }); err != nil {
		return nil, nil, err
	}
	mode := tenants.Write
	if dryRun || !rep.OK() {
		mode = tenants.Read
	}
	now := s.now().UTC()
	var made []ImportedDevice
	err = s.gate.Tx(ctx, mode, func(ctx context.Context, db bun.IDB) error {
		codes := make([]string, len(cs))
		for i, c := range cs {
			codes[i] = c.d.Code
		}
		for i := 0; i < len(codes); i += 500 {
			var have []string
			if err := db.NewSelect().Model((*Device)(nil)).Column("code").Where("code IN (?)", bun.List(codes[i:min(i+500, len(codes))])).Scan(ctx, &have); err != nil {
				return err
			}
			for _, h := range have {
				rep.Add(seen[h], "code", h, msgDeviceExists, h)
			}
		}
		if !rep.OK() || dryRun {
			return nil
		}
		ds := make([]*Device, len(cs))
		for i, c := range cs {
			d := c.d
			token, hash := tenants.NewToken(tokenPrefix)
			d.TokenHash, d.TokenPrefix, d.MQTTHash, d.CreatedAt, d.UpdatedAt = hash, token[:len(tokenPrefix)+6], ptr(MosquittoHash(token)), now, now
			ds[i] = &d
			made = append(made, ImportedDevice{Code: d.Code, Token: token})
		}
		for i := 0; i < len(ds); i += 200 {
			part := ds[i:min(i+200, len(ds))]
			if _, err := db.NewInsert().Model(&part).Exec(ctx); err != nil {
				return dbx.Translate(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sortProblems(rep)
	if !rep.OK() {
		return rep, nil, rep.Reject()
	}
	rep.Accepted = len(cs)
	rep.Applied = !dryRun
	if rep.Applied {
		return rep, made, s.gate.AuditTenant(ctx, "monitoring.device.import", "", rep.AuditDetail())
	}
	return rep, nil, nil
}

func sortProblems(r *tabular.Report) {
	ps := r.Problems
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Row < ps[j-1].Row; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
