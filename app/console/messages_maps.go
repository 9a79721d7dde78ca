package console

import "github.com/cityops/cityops/internal/msg"

// Messages of the maps' settings and the public map.
var (
	msgPlaceQueryTooLong = msg.New("console.place_query_too_long",
		"Type at most 100 characters of a place name.",
		"地名最多输入 100 个字符。")
	msgNoPublicPhoto = msg.New("console.no_public_photo",
		"There is no photo to show here.",
		"此处没有可公开的照片。")
)

var msgMaxZoomNumber = msg.New("console.max_zoom_number",
	"The highest zoom is a whole number.",
	"最大缩放级别须为整数。")
