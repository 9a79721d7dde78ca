package tenants

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgAccountDisabled = msg.New("tenants.account_disabled",
		"This account is disabled.",
		"该账号已停用。")
	msgAccountEmailExistsAlready = msg.New("tenants.account_email_exists_already",
		"An account with the email %s exists already.",
		"邮箱为 %s 的账号已存在。")
	msgAccountExistsEnterPasswordAccept = msg.New("tenants.account_exists_enter_password_accept",
		"An account with %s exists; enter its password to accept.",
		"%s 已有账号，请输入该账号的密码以接受邀请。")
	msgAdministeredDirectlyNotPrefectureLeave = msg.New("tenants.administered_directly_not_prefecture_leave",
		"%s (%s) is administered directly by %s, not by a prefecture: leave the parent empty.",
		"%s（%s）由%s直接管辖，不隶属于任何州（市）：上级单位请留空。")
	msgAdministrativeCodeAlreadyUsedTenant = msg.New("tenants.administrative_code_already_used_tenant",
		"The administrative code %s is already used by tenant %s (%s).",
		"行政区划代码 %s 已被单位 %s（%s）使用。")
	msgAdministrativeCodeCannotNameSchema = msg.New("tenants.administrative_code_cannot_name_schema",
		"The administrative code %q cannot name a schema.",
		"行政区划代码 %q 不能用作库模式（schema）名称。")
	msgAdministrativeCodeNotGbT = msg.New("tenants.administrative_code_not_gb_t",
		"The administrative code %s is not in the GB/T 2260 list of divisions of county level and above (published %s).",
		"行政区划代码 %s 不在 GB/T 2260 县级以上行政区划代码表中（%s 发布）。")
	msgAdministrativeCodeNotValidGb = msg.New("tenants.administrative_code_not_valid_gb",
		"The administrative code %q is not valid: a GB/T 2260 code has exactly six digits (for example 532301).",
		"行政区划代码 %q 无效：GB/T 2260 代码为六位数字（例如 532301）。")
	msgApiTokenHasBeenRevoked = msg.New("tenants.api_token_has_been_revoked",
		"The API token has been revoked or has expired.",
		"API 令牌已被吊销或已过期。")
	msgApiTokenNotValid = msg.New("tenants.api_token_not_valid",
		"The API token is not valid.",
		"API 令牌无效。")
	msgAuditWithoutTenantScope = msg.New("tenants.audit_without_tenant_scope",
		"audit of %s without a tenant scope",
		"记录审计事件 %s 时缺少单位范围")
	msgBelongsNotParentTenant = msg.New("tenants.belongs_not_parent_tenant",
		"%s (%s) belongs to %s (%s), not to the parent tenant %s (%s).",
		"%s（%s）隶属于%s（%s），不属于上级单位%s（%s）。")
	msgChineseNameCharactersRequired = msg.New("tenants.chinese_name_characters_required",
		"A Chinese name of 1 to 100 characters is required.",
		"请填写 1 到 100 个字符的中文名称。")
	msgCountyLevelDivisionPrefectureTenant = msg.New("tenants.county_level_division_prefecture_tenant",
		"%s (%s) is a county-level division; a prefecture tenant needs a prefecture-level code (for example 532300).",
		"%s（%s）是县级行政区；州（市）单位需要地级行政区划代码（例如 532300）。")
	msgEmailPasswordWrong = msg.New("tenants.email_password_wrong",
		"The email or password is wrong.",
		"邮箱或密码不正确。")
	msgEnglishNameLongerThanCharacters = msg.New("tenants.english_name_longer_than_characters",
		"The English name is longer than 100 characters.",
		"英文名称不能超过 100 个字符。")
	msgExportNoticeClear = msg.New("tenants.export_notice_clear",
		"This archive holds citizens' personal data in clear (the columns listed as clear_columns in manifest.json), exported by %s at %s for this reason: %s. Keep it only where personal information may be kept, give it to no one who does not need it, and delete it when it is no longer needed.",
		"本导出包含有明文的群众个人信息（manifest.json 中 clear_columns 所列各列），由 %s 于 %s 导出，导出原因：%s。请仅存放在允许保存个人信息的位置，不得提供给无关人员，不再需要时请及时删除。")
	msgExportNoticeEncrypted = msg.New("tenants.export_notice_encrypted",
		"Citizens' personal data in this archive (the columns listed as encrypted_columns in manifest.json) is ciphertext under the tenant's key: once the tenant is offboarded and its key destroyed, nobody can read it. To keep it readable, take the export with personal data decrypted.",
		"本导出包中的群众个人信息（manifest.json 中 encrypted_columns 所列各列）是用本单位密钥加密的密文：单位注销、密钥销毁后，任何人都无法再读取。如需保留可读的个人信息，请导出含明文个人信息的导出包。")
	msgExportOnlyLiveTenant = msg.New("tenants.export_only_live_tenant",
		"%s is %s: only an active or suspended tenant can be exported.",
		"%s 的状态为 %s：只有正常或已暂停的单位才能导出。")
	msgExportReadmeLayout = msg.New("tenants.export_readme_layout",
		"Contents: manifest.json describes every table and file. Each table is TABLE.json (exact values), TABLE.csv (UTF-8 with BOM, opens in Excel; text that Excel would take for a formula starts with an apostrophe) and xlsx/TABLE.xlsx (one workbook per table; a table longer than one worksheet continues on the next). Case photos are under case_photos/.",
		"内容说明：manifest.json 列出全部数据表和文件。每张表有 表名.json（原样数值）、表名.csv（带 BOM 的 UTF-8，可直接用 Excel 打开；会被 Excel 当作公式的文本前加了单引号）和 xlsx/表名.xlsx（每张表一个工作簿；超过一个工作表容量的表接续到下一个工作表）。案件照片在 case_photos/ 目录下。")
	msgExportReadmeTitle = msg.New("tenants.export_readme_title",
		"CityOps data export of %s (%s), made at %s.",
		"城运平台数据导出：%s（%s），导出时间 %s。")
	msgInvitationDoesNotExistWas = msg.New("tenants.invitation_does_not_exist_was",
		"This invitation does not exist or was replaced by a newer one.",
		"该邀请不存在，或已被新的邀请取代。")
	msgInvitationExpiredAskNewOne = msg.New("tenants.invitation_expired_ask_new_one",
		"This invitation expired on %s; ask for a new one.",
		"该邀请已于 %s 过期，请联系管理员重新邀请。")
	msgInvitationHasBeenAcceptedAlready = msg.New("tenants.invitation_has_been_accepted_already",
		"This invitation has been accepted already; please log in.",
		"该邀请已被接受，请直接登录。")
	msgKindNotOnePrefectureCounty = msg.New("tenants.kind_not_one_prefecture_county",
		"The kind %q is not one of prefecture, county, city, district.",
		"类型 %q 无效：可选值为 prefecture（州、市）、county（县）、city（县级市）、district（区）。")
	msgLastTenantAdminMakeSomeone = msg.New("tenants.last_tenant_admin_make_someone",
		"This is the last tenant admin of %s; make someone else admin first.",
		"这是 %s 的最后一位单位管理员；请先让其他人担任管理员。")
	msgNameLongerThanCharacters = msg.New("tenants.name_longer_than_characters",
		"The name is longer than 100 characters.",
		"名称不能超过 100 个字符。")
	msgNoAccountEmail = msg.New("tenants.no_account_email",
		"No account with email %s.",
		"没有邮箱为 %s 的账号。")
	msgNoActiveTokenId = msg.New("tenants.no_active_token_id",
		"No active token with id %s.",
		"没有 ID 为 %s 的有效令牌。")
	msgNoAdministrativeDivision = msg.New("tenants.no_administrative_division",
		"No administrative division %s.",
		"没有行政区划 %s。")
	msgNoMember = msg.New("tenants.no_member",
		"No member %s in %s.",
		"%s 不是 %s 的成员。")
	msgNoTenant = msg.New("tenants.no_tenant",
		"No tenant %q.",
		"没有单位 %q。")
	msgNoTenant2 = msg.New("tenants.no_tenant2",
		"No tenant %s.",
		"没有单位 %s。")
	msgNoTenantId = msg.New("tenants.no_tenant_id",
		"No tenant with id %s.",
		"没有 ID 为 %s 的单位。")
	msgNotEmailAddress = msg.New("tenants.not_email_address",
		"%q is not an email address.",
		"%q 不是有效的电子邮箱地址。")
	msgOffboardArchiveExists = msg.New("tenants.offboard_archive_exists",
		"An offboarding archive %s exists already; try again in a second.",
		"注销导出文件 %s 已存在，请稍后重试。")
	msgOffboardConfirmSlugRemovesData = msg.New("tenants.offboard_confirm_slug_removes_data",
		"To offboard %s, confirm with its slug %s; this removes its data after the export.",
		"注销 %s 前，请输入其标识 %s 确认；导出数据后将删除其数据。")
	msgOffboardHandoverStale = msg.New("tenants.offboard_handover_stale",
		"%s (%s) holds citizens' personal data in %d records, but its latest export with personal data in clear held %d: records came after it, and offboarding destroys the key that reads them. Download the export with personal data decrypted again (a reason is required), or waive it explicitly with a reason; then offboard again.",
		"%s（%s）有 %d 条记录含群众个人信息，而最近一次含明文个人信息的导出只包含 %d 条：之后又有新记录，而注销会销毁解密所需的密钥。请重新导出含明文个人信息的导出包（需填写原因），或填写原因明确声明无需导出；然后再办理注销。")
	msgOffboardNeedsHandover = msg.New("tenants.offboard_needs_handover",
		"%s (%s) holds citizens' personal data in %d records that only its key can read, and offboarding destroys that key. First have a tenant admin or an operator download the export with personal data decrypted (a reason is required), or waive it explicitly with a reason if the data is not needed; then offboard again.",
		"%s（%s）有 %d 条记录含群众个人信息，只能用本单位密钥解密，而注销会销毁该密钥。请先由单位管理员或运营方导出含明文个人信息的导出包（需填写原因），如确实不需要这些数据，也可填写原因明确声明无需导出；然后再办理注销。")
	msgOffboardingNeedsSomewhereWriteExport = msg.New("tenants.offboarding_needs_somewhere_write_export",
		"Offboarding needs somewhere to write the export.",
		"注销需要指定导出数据的写入位置。")
	msgOnlyAdminsPersonalData = msg.New("tenants.only_admins_personal_data",
		"Only the tenant's admins and the operating company's admins may export personal data in clear or waive that export.",
		"只有本单位管理员和运营方管理员可以导出明文个人信息或声明无需导出。")
	msgOperatorRoleDoesNotExist = msg.New("tenants.operator_role_does_not_exist",
		"The operator role %q does not exist.",
		"运营方角色 %q 不存在。")
	msgParentOnlyPrefectureCanHave = msg.New("tenants.parent_only_prefecture_can_have",
		"The parent %s is a %s; only a prefecture can have county-level tenants.",
		"上级单位 %s 的类型是 %s；只有州（市）才能下设县级单位。")
	msgParentTenantDoesNotExist = msg.New("tenants.parent_tenant_does_not_exist",
		"The parent tenant %q does not exist.",
		"上级单位 %q 不存在。")
	msgPasswordMustHaveLeastCharacters = msg.New("tenants.password_must_have_least_characters",
		"The password must have at least 10 characters.",
		"密码至少需要 10 个字符。")
	msgPasswordMustHaveMostBytes = msg.New("tenants.password_must_have_most_bytes",
		"The password must have at most 256 bytes.",
		"密码不能超过 256 字节。")
	msgPersonalDataClearOrEncrypted = msg.New("tenants.personal_data_clear_or_encrypted",
		"personal_data must be \"clear\" (citizens' personal data decrypted; give a reason) or \"encrypted\" (as stored).",
		"personal_data 须为 \"clear\"（群众个人信息解密为明文，需填写原因 reason）或 \"encrypted\"（按存储的密文）。")
	msgPlanNotValidUseLower = msg.New("tenants.plan_not_valid_use_lower",
		"The plan %q is not valid: use lower-case letters, digits and underscores.",
		"套餐 %q 无效：请使用小写字母、数字和下划线。")
	msgPleaseLog = msg.New("tenants.please_log",
		"Please log in.",
		"请先登录。")
	msgPrefectureHasNoParentTenant = msg.New("tenants.prefecture_has_no_parent_tenant",
		"A prefecture has no parent tenant.",
		"州（市）单位没有上级单位。")
	msgPrefectureLevelDivisionCountyCity = msg.New("tenants.prefecture_level_division_county_city",
		"%s (%s) is a prefecture-level division; a county, city or district tenant needs a county-level code (for example 532301).",
		"%s（%s）是地级行政区；县、县级市或区单位需要县级行政区划代码（例如 532301）。")
	msgProvinceTenantPrefectureLevelCounty = msg.New("tenants.province_tenant_prefecture_level_county",
		"%s (%s) is a province; a tenant is a prefecture-level or county-level division.",
		"%s（%s）是省级行政区；单位只能是地级或县级行政区。")
	msgReasonNotText = msg.New("tenants.reason_not_text",
		"The reason must be plain text, without control characters.",
		"原因只能是普通文字，不能含控制字符。")
	msgReasonRequiredPersonalData = msg.New("tenants.reason_required_personal_data",
		"Give the reason: it is recorded in the audit log and in the archive.",
		"请填写原因：原因会记入审计日志和导出包。")
	msgReasonTooLong = msg.New("tenants.reason_too_long",
		"The reason may be at most %d characters.",
		"原因不能超过 %d 个字符。")
	msgRoleNotTenantRole = msg.New("tenants.role_not_tenant_role",
		"The role %q is not a tenant role.",
		"角色 %q 不是单位角色。")
	msgRolePrefectureViewerExistsOnly = msg.New("tenants.role_prefecture_viewer_exists_only",
		"The role prefecture_viewer exists only in a prefecture tenant.",
		"角色 prefecture_viewer（州级查看）只适用于州（市）单位。")
	msgRolePrefixMustLowerCase = msg.New("tenants.role_prefix_must_lower_case",
		"The role prefix %q must be a lower-case SQL identifier of at most 30 characters.",
		"角色前缀 %q 必须是不超过 30 个字符的小写 SQL 标识符。")
	msgSettingKeyLowerCaseLetters = msg.New("tenants.setting_key_lower_case_letters",
		"A setting key is 1 to 64 lower-case letters, digits, dots and underscores.",
		"设置项的键名须由 1 到 64 个小写字母、数字、点和下划线组成。")
	msgSettingValueMostBytes = msg.New("tenants.setting_value_most_bytes",
		"A setting value is at most 4096 bytes.",
		"设置项的值不能超过 4096 字节。")
	msgSlugAlreadyUsedTenant = msg.New("tenants.slug_already_used_tenant",
		"The slug %s is already used by tenant %s (%s).",
		"标识 %s 已被单位 %s（%s）使用。")
	msgSlugNotValidUseLower = msg.New("tenants.slug_not_valid_use_lower",
		"The slug %q is not valid: use 2 to 40 lower-case letters, digits and single hyphens, starting with a letter (for example \"chuxiong\").",
		"标识 %q 无效：请使用 2 到 40 个小写字母、数字和单个连字符，并以字母开头（例如 chuxiong）。")
	msgTenantAlreadyExists = msg.New("tenants.tenant_already_exists",
		"Tenant %s already exists and is %s.",
		"单位 %s 已存在，当前状态为 %s。")
	msgTenantGateUsedWithoutTenant = msg.New("tenants.tenant_gate_used_without_tenant",
		"tenant gate used without a tenant scope",
		"单位准入检查缺少单位范围")
	msgTenantHasInvalidSchemaRole = msg.New("tenants.tenant_has_invalid_schema_role",
		"tenant %s has an invalid schema or role name",
		"单位 %s 的库模式（schema）或角色名称无效")
	msgTenantInvitationNoLongerExists = msg.New("tenants.tenant_invitation_no_longer_exists",
		"The tenant of this invitation no longer exists.",
		"该邀请所属的单位已不存在。")
	msgTenantNotProvisioning = msg.New("tenants.tenant_not_provisioning",
		"Tenant %s is %s, not provisioning.",
		"单位 %s 当前为 %s，不在开通中。")
	msgTenantOnlyTenantCanChanged = msg.New("tenants.tenant_only_tenant_can_changed",
		"Tenant %s is %s; only a tenant that is %s can be changed to %s.",
		"单位 %s 当前为 %s；只有 %s 的单位才能改为 %s。")
	msgTenantStillBeingProvisioned = msg.New("tenants.tenant_still_being_provisioned",
		"Tenant %s is still being provisioned.",
		"单位 %s 仍在开通中。")
	msgTenantStillHasCountyLevel = msg.New("tenants.tenant_still_has_county_level",
		"Tenant %s still has %d county-level tenants; offboard them first.",
		"单位 %s 下还有 %d 个县级单位；请先注销它们。")
	msgTenantStillProvisioningFinishResume = msg.New("tenants.tenant_still_provisioning_finish_resume",
		"Tenant %s is still provisioning; finish or resume it first.",
		"单位 %s 仍在开通中；请先完成或继续开通。")
	msgTenantSuspendedDataCanRead = msg.New("tenants.tenant_suspended_data_can_read",
		"Tenant %s is suspended: its data can be read and exported but not changed.",
		"单位 %s 已暂停：其数据可以查看和导出，但不能修改。")
	msgTenantWasAlreadyOffboarded = msg.New("tenants.tenant_was_already_offboarded",
		"Tenant %s was already offboarded.",
		"单位 %s 已注销。")
	msgTokenNeedsNameCharacters = msg.New("tenants.token_needs_name_characters",
		"A token needs a name of 1 to 100 characters.",
		"请为令牌填写 1 到 100 个字符的名称。")
	msgTooManyFailedLoginsTry = msg.New("tenants.too_many_failed_logins_try",
		"Too many failed logins; try again in %d s.",
		"登录失败次数过多，请 %d 秒后再试。")
	msgTooManyFailedLoginsTry2 = msg.New("tenants.too_many_failed_logins_try2",
		"Too many failed logins; try again in %d min.",
		"登录失败次数过多，请 %d 分钟后再试。")
	msgTxeachNeedsPostgresql = msg.New("tenants.txeach_needs_postgresql",
		"TxEach needs PostgreSQL",
		"TxEach 需要 PostgreSQL")
	msgUnknownProvisioningStep = msg.New("tenants.unknown_provisioning_step",
		"unknown provisioning step %q",
		"未知的开通步骤 %q")
	msgWaiveOnlyLiveTenant = msg.New("tenants.waive_only_live_tenant",
		"%s is %s: a waiver is only for an active or suspended tenant.",
		"%s 的状态为 %s：只有正常或已暂停的单位才能声明无需导出。")
	msgYourAccessReadOnly = msg.New("tenants.your_access_read_only",
		"Your access to %s is read-only.",
		"您对 %s 的访问是只读的。")
	msgYourSessionHasEndedPlease = msg.New("tenants.your_session_has_ended_please",
		"Your session has ended; please log in again.",
		"会话已结束，请重新登录。")
)
