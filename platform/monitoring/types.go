package monitoring

import (
	"slices"

	"github.com/cityops/cityops/internal/msg"
)

// Metric is one quantity a device type measures, with its unit and the range of values a working
// sensor can report (a value outside it is rejected as out of range).
type Metric struct {
	Code string  `json:"code"`
	Unit string  `json:"unit"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// Label is the id of the message naming the metric.
	Label string `json:"-"`
}

// Type is a kind of device and the metrics it reports.
type Type struct {
	Code    string   `json:"code"`
	Metrics []Metric `json:"metrics"`
	// Label is the id of the message naming the type.
	Label string `json:"-"`
}

// Types are the device types the platform knows, in display order.
var Types = []Type{
	{Code: "manhole", Label: msgTypeManhole.ID(), Metrics: []Metric{
		{Code: "tilt", Unit: "°", Min: 0, Max: 90, Label: msgMetricTilt.ID()},
		{Code: "open", Unit: "", Min: 0, Max: 1, Label: msgMetricOpen.ID()},
	}},
	{Code: "waterlog", Label: msgTypeWaterlog.ID(), Metrics: []Metric{
		{Code: "level", Unit: "cm", Min: 0, Max: 500, Label: msgMetricLevel.ID()},
	}},
	{Code: "gas", Label: msgTypeGas.ID(), Metrics: []Metric{
		{Code: "concentration", Unit: "%LEL", Min: 0, Max: 100, Label: msgMetricConcentration.ID()},
	}},
	{Code: "bridge", Label: msgTypeBridge.ID(), Metrics: []Metric{
		{Code: "strain", Unit: "με", Min: -5000, Max: 5000, Label: msgMetricStrain.ID()},
		{Code: "tilt", Unit: "°", Min: -45, Max: 45, Label: msgMetricTilt.ID()},
	}},
	{Code: "streetlight", Label: msgTypeStreetlight.ID(), Metrics: []Metric{
		{Code: "current", Unit: "A", Min: 0, Max: 50, Label: msgMetricCurrent.ID()},
	}},
	{Code: "bin", Label: msgTypeBin.ID(), Metrics: []Metric{
		{Code: "fill", Unit: "%", Min: 0, Max: 100, Label: msgMetricFill.ID()},
	}},
}

// typeAliases are the Chinese names an import may give for a type.
var typeAliases = map[string]string{
	"井盖": "manhole", "积水": "waterlog", "燃气": "gas", "桥梁": "bridge", "路灯": "streetlight",
	"垃圾桶满溢": "bin", "垃圾桶": "bin",
}

// FindType returns the type of code (or of its Chinese name).
func FindType(code string) (*Type, bool) {
	if c, ok := typeAliases[code]; ok {
		code = c
	}
	if code == CameraType.Code || code == "摄像头" {
		return &CameraType, true
	}
	i := slices.IndexFunc(Types, func(t Type) bool { return t.Code == code })
	if i < 0 {
		return nil, false
	}
	return &Types[i], true
}

// Metric returns the type's metric of code.
func (t *Type) Metric(code string) (*Metric, bool) {
	i := slices.IndexFunc(t.Metrics, func(m Metric) bool { return m.Code == code })
	if i < 0 {
		return nil, false
	}
	return &t.Metrics[i], true
}

// Name is the type's name in l.
func (t *Type) Name(l string) string { return msg.TextOf(l, t.Label) }

// Name is the metric's name in l.
func (m *Metric) Name(l string) string { return msg.TextOf(l, m.Label) }

// typeCodes lists the type codes, for messages.
func typeCodes() string {
	s := ""
	for i, t := range Types {
		if i > 0 {
			s += ", "
		}
		s += t.Code
	}
	return s
}
