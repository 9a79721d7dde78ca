package console

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgAmountTimeNumberEG = msg.New("console.amount_time_number_e_g",
		"The amount of time is a number, e.g. 2 or 0.5.",
		"时长须为数字，例如 2 或 0.5。")
	msgStale = msg.New("console.stale",
		"stale",
		"数据已过期，请刷新页面后重试。")
	msgChoosePhotoUpload = msg.New("console.choose_photo_upload",
		"Choose a photo to upload.",
		"请选择要上传的照片。")
	msgCasesReportedInspectorEnteredAcceptor = msg.New("console.cases_reported_inspector_entered_acceptor",
		"Cases are reported by an inspector (监督员) or entered by an acceptor (受理员).",
		"案件由监督员上报或由受理员录入。")
	msgChooseCategoryClassProblem = msg.New("console.choose_category_class_problem",
		"Choose the category (class) of the problem.",
		"请选择问题的类别。")
	msgGiveLocationUseDevicePosition = msg.New("console.give_location_use_device_position",
		"Give the location: use this device's position or tap the map.",
		"请提供位置：使用本设备的定位，或在地图上点选。")
	msgLocationMustLatitudeLongitudeChina = msg.New("console.location_must_latitude_longitude_china",
		"The location must be a latitude and longitude in China (e.g. 25.033, 101.546).",
		"位置必须是中国境内的纬度和经度（例如 25.033, 101.546）。")
	msgTooManyReportsMinuteWait = msg.New("console.too_many_reports_minute_wait",
		"Too many reports in a minute; wait a minute and try again.",
		"一分钟内上报次数过多，请等待一分钟后重试。")
	msgSayWhatProblem = msg.New("console.say_what_problem",
		"Say what the problem is.",
		"请说明是什么问题。")
	msgNoTenant = msg.New("console.no_tenant",
		"No tenant %q.",
		"没有单位 %q。")
	msgChoosePlanChange = msg.New("console.choose_plan_change",
		"Choose the plan to change to.",
		"请选择要变更为的套餐。")
	msgDueDateBeforeAccountingDate = msg.New("console.due_date_before_accounting_date",
		"The due date is before the accounting date.",
		"到期日早于记账日期。")
	msgGiveAmountYuanExample = msg.New("console.give_amount_yuan_example",
		"Give the amount in yuan, for example 1234.56.",
		"请以元为单位填写金额，例如 1234.56。")
	msgInviteAdminsOnceProvisioned = msg.New("console.invite_admins_once_provisioned",
		"%s is %s; invite its admins once it is provisioned.",
		"%s 当前状态为 %s；请在开通完成后再邀请其管理员。")
	msgNoPage = msg.New("console.no_page",
		"no page %q",
		"没有页面 %q")
	msgNotDateUseYyyyMm = msg.New("console.not_date_use_yyyy_mm",
		"%q is not a date: use YYYY-MM-DD, for example 2026-05-14.",
		"%q 不是日期：请使用 YYYY-MM-DD 格式，例如 2026-05-14。")
	msgNotPrefectureOnlyPrefectureHas = msg.New("console.not_prefecture_only_prefecture_has",
		"%s is not a prefecture; only a prefecture has an overview.",
		"%s 不是州；只有州才有总览。")
	msgReasonLongerThanCharacters = msg.New("console.reason_longer_than_characters",
		"The reason is longer than 500 characters.",
		"原因超过 500 个字符。")
	msgStatusNotOneProvisioningActive = msg.New("console.status_not_one_provisioning_active",
		"The status %q is not one of provisioning, active, suspended, offboarding, deleted.",
		"状态 %q 不是 provisioning、active、suspended、offboarding、deleted 之一。")
	msgTenantNotProvisioning = msg.New("console.tenant_not_provisioning",
		"Tenant %s is %s, not provisioning.",
		"单位 %s 当前状态为 %s，不是开通中（provisioning）。")
	msgThereNoPlan = msg.New("console.there_no_plan",
		"There is no plan %q.",
		"没有套餐 %q。")
	msgChooseOnePost = msg.New("console.choose_one_post",
		"Choose at least one post; to remove the member, use Remove.",
		"请至少选择一个岗位；如需移除该成员，请使用「移出本单位」。")
	msgImportYear = msg.New("console.import_year",
		"Give the year being imported, such as 2026.",
		"请填写导入数据所属的年份，例如 2026。")
	msgChooseFile = msg.New("console.choose_file",
		"Choose a file to upload.",
		"请选择要上传的文件。")
	msgCheckedFileLost = msg.New("console.checked_file_lost",
		"The checked file did not come back intact; choose it again.",
		"已校验的文件未能完整回传，请重新选择文件。")
	msgCheckedFileFormat = msg.New("console.checked_file_format",
		"The checked file's format %q is not accepted here.",
		"此处不接受已校验文件的格式 %q。")
	msgLimitNotNumber = msg.New("console.limit_not_number",
		"The limit %q is not a number.",
		"时限 %q 不是数字。")
	msgUrgentLimitNotNumber = msg.New("console.urgent_limit_not_number",
		"The limit for urgent cases %q is not a number.",
		"紧急案件的时限 %q 不是数字。")
)
