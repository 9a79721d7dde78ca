package console

import "github.com/cityops/cityops/internal/msg"

// The messages of 城管通's pages (field.go).
var (
	msgFieldInspectorOnly = msg.New("console.field.inspector_only",
		"城管通 is the inspectors' (监督员) workspace; your posts in this tenant do not include inspector.",
		"城管通是监督员的移动工作台；您在本单位的岗位中没有监督员。")
	msgFieldTracksPosts = msg.New("console.field.tracks_posts",
		"The patrol track map is for the shift lead, the dispatcher, the leader and the tenant admin.",
		"巡查轨迹地图供值班长、派遣员、领导和管理员查看。")
)
