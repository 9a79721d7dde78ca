package console

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
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
