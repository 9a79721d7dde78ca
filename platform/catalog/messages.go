package catalog

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgCatalogSyncWithoutTenantScope = msg.New("catalog.catalog_sync_without_tenant_scope",
		"catalog sync without a tenant scope",
		"类别目录同步时缺少单位范围")
	msgClassAlready = msg.New("catalog.class_already",
		"The %s class %s is already %s (%s).",
		"%s 类别 %s 已存在：%s（%s）。")
	msgClassCodeDigitsMajorClass = msg.New("catalog.class_code_digits_major_class",
		"A class code is 2 digits (major class) or 4 digits (major + minor).",
		"分类代码为 2 位（大类）或 4 位（大类 + 小类）数字。")
	msgClassNeedsChineseNameMost = msg.New("catalog.class_needs_chinese_name_most",
		"A class needs a Chinese name of at most 50 characters.",
		"分类需要不超过 50 个字符的中文名称。")
	msgClassStillUsedStandardsComponents = msg.New("catalog.class_still_used_standards_components",
		"The class %s is still used by standards, components or minor classes.",
		"分类 %s 仍被立结案标准、部件或小类使用。")
	msgFileNotGeojsonFeaturecollection = msg.New("catalog.file_not_geojson_featurecollection",
		"The file is not a GeoJSON FeatureCollection.",
		"文件不是 GeoJSON FeatureCollection。")
	msgHasNoPrefectureTakeClasses = msg.New("catalog.has_no_prefecture_take_classes",
		"%s has no prefecture to take classes from.",
		"%s 没有上级州，无法从州获取类别。")
	msgKindComponentEvent = msg.New("catalog.kind_component_event",
		"The kind is component or event.",
		"类型为 component（部件）或 event（事件）。")
	msgMajorClassCasesFiledUnder = msg.New("catalog.major_class_cases_filed_under",
		"%s is a major class; cases are filed under a minor class.",
		"%s 是大类；案件须按小类立案。")
	msgNoClass = msg.New("catalog.no_class",
		"No %s class %s.",
		"没有 %s 类别 %s。")
	msgNoClassKind = msg.New("catalog.no_class_kind",
		"No class kind %q.",
		"没有分类类型 %q。")
	msgNoComponent = msg.New("catalog.no_component",
		"No component %s.",
		"没有部件 %s。")
	msgNoOwnClassNationalPrefecture = msg.New("catalog.no_own_class_national_prefecture",
		"No own %s class %s (national and prefecture classes cannot be removed here).",
		"没有本单位自有的 %s 类别 %s（国家和州的类别不能在此删除）。")
	msgNoStandard = msg.New("catalog.no_standard",
		"No standard %s.",
		"没有立结案标准 %s。")
	msgPrefectureClassesClashTenantOwn = msg.New("catalog.prefecture_classes_clash_tenant_own",
		"The prefecture's classes %s clash with this tenant's own classes; renumber those first.",
		"州的类别 %s 与本单位自有类别冲突；请先为本单位的这些类别重新编号。")
	msgPrefectureNoLongerHasClasses = msg.New("catalog.prefecture_no_longer_has_classes",
		"The prefecture no longer has the classes %s, which this tenant's standards or components still use; change those first.",
		"州已不再有类别 %s，但本单位的立结案标准或部件仍在使用；请先修改这些标准或部件。")
	msgThereNoMajorClassPut = msg.New("catalog.there_no_major_class_put",
		"There is no %s major class %s to put %s under.",
		"没有 %s 大类 %s，无法将 %s 归入其下。")
	msgTimeLimitNotNumber = msg.New("catalog.time_limit_not_number",
		"The time limit %q is not a number.",
		"时限 %q 不是数字。")
	msgTimeLimitRequired = msg.New("catalog.time_limit_required",
		"The time limit is required.",
		"时限必填。")
	msgTitle = msg.New("catalog.title",
		"Catalog and standards",
		"部件事件分类与立结案标准")
	// The standards import's report. The minor class message takes the kind twice, in English
	// (2) and in Chinese (3), and each language says its own.
	msgKindComponentEventNot = msg.New("catalog.kind_component_event_not",
		"The kind %q is neither 部件 (component) nor 事件 (event).",
		"类型 %q 既不是“部件”也不是“事件”。")
	msgNotKnownMinorClassCode = msg.New("catalog.not_known_minor_class_code",
		"%[1]q is not a known %[2]s minor class code (4 digits; national, prefecture or own).",
		"%[1]q 不是已知的%[3]s小类代码（4 位数字；国家、州或本单位扩展）。")
	msgFilingConditionRequired = msg.New("catalog.filing_condition_required",
		"The filing condition is required, at most 500 characters.",
		"立案条件必填，且不超过 500 个字符。")
	msgClosingConditionRequired = msg.New("catalog.closing_condition_required",
		"The closing condition is required, at most 500 characters.",
		"结案条件必填，且不超过 500 个字符。")
	msgLegalBasisTooLong = msg.New("catalog.legal_basis_too_long",
		"The legal basis is at most 1000 characters.",
		"法规依据不超过 1000 个字符。")
	msgNoDepartmentCodeOrName = msg.New("catalog.no_department_code_or_name",
		"No department with the code or name %q; create it under departments first.",
		"没有代码或名称为 %q 的部门；请先在“部门”中添加。")
	msgFilingConditionAlreadyGiven = msg.New("catalog.filing_condition_already_given",
		"Row %d already gives class %s with this filing condition.",
		"第 %d 行已给出小类 %s 的相同立案条件。")
	// The components import's report.
	msgFeatureCannotReadGeojson = msg.New("catalog.feature_cannot_read_geojson",
		"The feature cannot be read as GeoJSON.",
		"该要素不是可读的 GeoJSON。")
	msgComponentPointNoGeometry = msg.New("catalog.component_point_no_geometry",
		"A component is a Point; this feature has no geometry.",
		"部件须为 Point；该要素没有几何图形。")
	msgComponentPointNotType = msg.New("catalog.component_point_not_type",
		"A component is a Point; this feature has a %s.",
		"部件须为 Point；该要素为 %s。")
	msgComponentCodeDigits = msg.New("catalog.component_code_digits",
		"A component code is 16 digits (6 admin + 2 major + 2 minor + 6 serial), not %q.",
		"部件编码应为 16 位数字（6 位行政区划 + 2 位大类 + 2 位小类 + 6 位流水号），而不是 %q。")
	msgCodeNotTenantAdminCode = msg.New("catalog.code_not_tenant_admin_code",
		"The code does not start with this tenant's admin code %s.",
		"编码不是以本单位的行政区划代码 %s 开头。")
	msgNotKnownComponentMinorClass = msg.New("catalog.not_known_component_minor_class",
		"Digits 7–10 (%s) are not a known component minor class.",
		"第 7–10 位（%s）不是已知的部件小类。")
	msgCodeAlreadyGiven = msg.New("catalog.code_already_given",
		"The code is already given in row %d.",
		"该编码已在第 %d 行出现。")
	msgPointNotInChina = msg.New("catalog.point_not_in_china",
		"The point (%s, %s) is not a longitude and latitude in China.",
		"坐标（%s, %s）不是中国境内的经纬度。")
	msgColumnTooLong = msg.New("catalog.column_too_long",
		"The %s is longer than 200 characters.",
		"%s 超过 200 个字符。")
	msgNoGrid = msg.New("catalog.no_grid",
		"No grid %s.",
		"没有网格 %s。")
)
