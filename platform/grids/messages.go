package grids

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgBoundaryCannotReadGeojson = msg.New("grids.boundary_cannot_read_geojson",
		"The boundary cannot be read as GeoJSON: %s.",
		"边界无法按 GeoJSON 读取：%s。")
	msgBoundaryFeatureHasNoGeometry = msg.New("grids.boundary_feature_has_no_geometry",
		"The boundary's feature has no geometry.",
		"边界要素没有几何图形。")
	msgBoundaryHasPolygonsMostTaken = msg.New("grids.boundary_has_polygons_most_taken",
		"The boundary has %d polygons; at most %d are taken.",
		"边界有 %d 个多边形；最多接受 %d 个。")
	msgBoundaryHasPositionsMostTaken = msg.New("grids.boundary_has_positions_most_taken",
		"The boundary has %d positions; at most %d are taken. Simplify it (to some 20 m) and upload it again.",
		"边界有 %d 个坐标点；最多接受 %d 个。请简化（约 20 米精度）后重新上传。")
	msgBoundaryMustPolygonMultipolygon = msg.New("grids.boundary_must_polygon_multipolygon",
		"The boundary is a %s; it must be a Polygon or MultiPolygon.",
		"边界是 %s；必须是 Polygon 或 MultiPolygon。")
	msgBoundaryNotGeojsonSendPolygon = msg.New("grids.boundary_not_geojson_send_polygon",
		"The boundary is not GeoJSON: send a Polygon, a MultiPolygon or a Feature holding one.",
		"边界不是 GeoJSON：请上传 Polygon、MultiPolygon，或包含其一的 Feature。")
	msgBoundaryOnePolygonMultipolygonFeaturecollection = msg.New("grids.boundary_one_polygon_multipolygon_featurecollection",
		"A boundary is one Polygon or MultiPolygon; this FeatureCollection has %d features.",
		"边界只能是一个 Polygon 或 MultiPolygon；该要素集合有 %d 个要素。")
	msgEachGridNeedsNameMost = msg.New("grids.each_grid_needs_name_most",
		"Each grid needs a name of at most 100 characters.",
		"每个网格都需要名称，且不超过 100 个字符。")
	msgEveryUnitResponsibilityGridMust = msg.New("grids.every_unit_responsibility_grid_must",
		"Every unit of a responsibility grid must be an imported unit grid.",
		"责任网格中的每个单元都必须是已导入的单元网格。")
	msgFileNotGeojsonFeaturecollection = msg.New("grids.file_not_geojson_featurecollection",
		"The file is not a GeoJSON FeatureCollection.",
		"文件不是 GeoJSON FeatureCollection。")
	msgGivePointLonLatDegrees = msg.New("grids.give_point_lon_lat_degrees",
		"Give the point as ?lon=101.5&lat=25.0 (degrees).",
		"请以 ?lon=101.5&lat=25.0（单位：度）的形式给出坐标点。")
	msgNoGrid = msg.New("grids.no_grid",
		"No grid %s.",
		"没有网格 %s。")
	msgNoResponsibilityGrid = msg.New("grids.no_responsibility_grid",
		"No responsibility grid %s.",
		"没有责任网格 %s。")
	msgNoStaffMember = msg.New("grids.no_staff_member",
		"No staff member %s.",
		"没有工作人员 %s。")
	msgPointGGNoneTenant = msg.New("grids.point_g_g_none_tenant",
		"The point (%g, %g) is in none of this tenant's unit grids.",
		"坐标点 (%g, %g) 不在本单位的任何单元网格内。")
	msgPointGGOutsideChina = msg.New("grids.point_g_g_outside_china",
		"The point (%g, %g) is outside China's longitude and latitude range; give lon then lat in degrees.",
		"坐标点 (%g, %g) 超出中国的经纬度范围；请先填经度、后填纬度，单位为度。")
	msgResponsibilityGridCodeLettersDigits = msg.New("grids.responsibility_grid_code_letters_digits",
		"A responsibility grid code is 1 to 32 letters, digits, dashes or underscores.",
		"责任网格代码为 1 到 32 个字母、数字、连字符或下划线。")
	msgResponsibilityGridNeedsNameMost = msg.New("grids.responsibility_grid_needs_name_most",
		"A responsibility grid needs a name of at most 100 characters.",
		"责任网格名称必填，且不超过 100 个字符。")
	msgStoredBoundaryCannotRead = msg.New("grids.stored_boundary_cannot_read",
		"the stored boundary cannot be read",
		"已存储的边界无法读取")
	msgTenantHasNoBoundaryYet = msg.New("grids.tenant_has_no_boundary_yet",
		"This tenant has no boundary yet; until one is set, reports are taken anywhere in China.",
		"本单位尚未设置行政区划边界；设置之前，全国范围内的上报都会受理。")
	msgTitle = msg.New("grids.title",
		"Grids",
		"网格")
	msgUnitGridHasStoredGeometry = msg.New("grids.unit_grid_has_stored_geometry",
		"unit grid %s has a stored geometry that cannot be read",
		"单元网格 %s 已存储的几何图形无法读取")

	// What LevelOf and checkGeometry say of a bad grid code or geometry.
	msgGridCodeDigits = msg.New("grids.grid_code_digits",
		"A grid code is 14 digits, not %q.",
		"网格编码应为 14 位数字，而不是 %q。")
	msgCodeNotTenantAdminCode = msg.New("grids.code_not_tenant_admin_code",
		"The code %s does not start with this tenant's admin code %s.",
		"编码 %s 不是以本单位的行政区划代码 %s 开头。")
	msgStreetPartZero = msg.New("grids.street_part_zero",
		"The street part of %s (digits 7–9) is 000.",
		"编码 %s 的街道部分（第 7–9 位）为 000。")
	msgUnitGridNoCommunity = msg.New("grids.unit_grid_no_community",
		"The unit grid %s has no community (digits 10–12 are 000).",
		"单元网格 %s 没有所属社区（第 10–12 位为 000）。")
	msgFeatureHasNoGeometry = msg.New("grids.feature_has_no_geometry",
		"The feature has no geometry.",
		"该要素没有几何图形。")
	msgGeometryNotPolygon = msg.New("grids.geometry_not_polygon",
		"The geometry is a %s; a grid is a Polygon or MultiPolygon.",
		"几何图形为 %s；网格须为 Polygon 或 MultiPolygon。")
	msgGeometryEmpty = msg.New("grids.geometry_empty",
		"The geometry is empty.",
		"几何图形为空。")
	msgPolygonHasNoRing = msg.New("grids.polygon_has_no_ring",
		"A polygon has no ring.",
		"有一个多边形没有环。")
	msgRingTooFewPositions = msg.New("grids.ring_too_few_positions",
		"Ring %d has %d positions; a ring needs at least 4.",
		"第 %d 个环只有 %d 个坐标点；每个环至少需要 4 个坐标点。")
	msgRingNotClosed = msg.New("grids.ring_not_closed",
		"Ring %d is not closed: its first and last positions differ.",
		"第 %d 个环未闭合：首尾坐标点不一致。")
	msgPositionOutsideChina = msg.New("grids.position_outside_china",
		"The position [%g, %g] is outside China's longitude and latitude range (lon %g–%g, lat %g–%g); coordinates are [lon, lat].",
		"坐标点 [%g, %g] 超出中国的经纬度范围（经度 %g–%g，纬度 %g–%g）；坐标顺序应为 [经度, 纬度]。")
	msgPolygonHasNoArea = msg.New("grids.polygon_has_no_area",
		"A polygon has no area.",
		"有一个多边形面积为零。")
	// The import report's own problems.
	msgFeatureCannotReadGeojson = msg.New("grids.feature_cannot_read_geojson",
		"The feature cannot be read as GeoJSON: %s.",
		"该要素不是可读的 GeoJSON：%s。")
	msgCodeUsedByFeature = msg.New("grids.code_used_by_feature",
		"The code %s is already used by feature %d.",
		"编码 %s 已被第 %d 个要素使用。")
	msgParentGridMissing = msg.New("grids.parent_grid_missing",
		"The parent grid %s is neither in the file nor already imported.",
		"上级网格 %s 既不在文件中，也未导入过。")
)
