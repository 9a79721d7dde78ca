package billing

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgAccountingDateBefore = msg.New("billing.accounting_date_before",
		"The accounting date is before 2000.",
		"记账日期不能早于 2000 年。")
	msgAccountingDateFuture = msg.New("billing.accounting_date_future",
		"The accounting date is in the future.",
		"记账日期不能在未来。")
	msgAdjustmentNeedsNonZeroAmount = msg.New("billing.adjustment_needs_non_zero_amount",
		"An adjustment needs a non-zero amount in fen (negative to credit the tenant).",
		"调整金额不能为零（负数表示给单位记贷）。")
	msgAlreadyHasStripeSubscriptionChange = msg.New("billing.already_has_stripe_subscription_change",
		"%s already has a Stripe subscription (%s); change its plan instead of subscribing again.",
		"%s 已有 Stripe 订阅（%s）；请变更其套餐，不要重复订阅。")
	msgAmountLargerThanAnyReal = msg.New("billing.amount_larger_than_any_real",
		"The amount is larger than any real entry; check the number.",
		"金额大得不合常理，请核对。")
	msgAmountMustPositiveWholeNumber = msg.New("billing.amount_must_positive_whole_number",
		"The amount must be a positive whole number of fen (1 yuan = 100 fen).",
		"金额必须是正的整数分（1 元 = 100 分）。")
	msgCategoryNotOne = msg.New("billing.category_not_one",
		"The category %q is not one of %s for a %s.",
		"类别 %q 无效：可选值为 %s（适用于 %s 类记录）。")
	msgChinesePlanNameCharactersRequired = msg.New("billing.chinese_plan_name_characters_required",
		"A Chinese plan name of 1 to 60 characters is required.",
		"请填写 1 到 60 个字符的中文套餐名称。")
	msgContainsControlCharacter = msg.New("billing.contains_control_character",
		"The %s contains a control character.",
		"字段 %s 含有控制字符。")
	msgDueMonth = msg.New("billing.due_month",
		"The due month is 1 to 12.",
		"到期月份应为 1 到 12。")
	msgEffectiveMonthNotValidUse = msg.New("billing.effective_month_not_valid_use",
		"The effective month %q is not valid: use YYYY-MM, for example 2026-07.",
		"生效月份 %q 无效：请用 YYYY-MM 格式，例如 2026-07。")
	msgFirstYearMustBetween = msg.New("billing.first_year_must_between",
		"The first year must be between 2000 and 2100.",
		"起始年份必须在 2000 到 2100 之间。")
	msgHasAlreadyBeenRatedLater = msg.New("billing.has_already_been_rated_later",
		"%s has already been rated for %s or later; a plan change can start from the first month not yet rated.",
		"%s 在 %s 及之后的月份已计费；套餐变更只能从第一个尚未计费的月份开始。")
	msgIdempotencyKeyWasAlreadyUsed = msg.New("billing.idempotency_key_was_already_used",
		"The idempotency key %q was already used for a different entry.",
		"幂等键 %q 已用于另一条记录。")
	msgJournalDoesNotBalancePostings = msg.New("billing.journal_does_not_balance_postings",
		"journal does not balance: %d postings sum to %d",
		"凭证借贷不平衡：%d 条分录合计为 %d")
	msgKindNotOneAdvanceCharge = msg.New("billing.kind_not_one_advance_charge",
		"The kind %q is not one of advance, charge, repayment, adjustment.",
		"类型 %q 无效：可选值为 advance（垫资）、charge（收费）、repayment（还款）、adjustment（调整）。")
	msgLongerThanCharacters = msg.New("billing.longer_than_characters",
		"The %s is longer than %d characters.",
		"字段 %s 超过 %d 个字符。")
	msgMeterNotKnown = msg.New("billing.meter_not_known",
		"The meter %q is not known.",
		"未知的计量项 %q。")
	msgMeterNotOne = msg.New("billing.meter_not_one",
		"The meter %q is not one of %s.",
		"计量项 %q 无效：可选值为 %s。")
	msgModuleNotKnown = msg.New("billing.module_not_known",
		"The module %q is not known.",
		"未知的模块 %q。")
	msgMonthBefore = msg.New("billing.month_before",
		"The month %s is before 2000.",
		"月份 %s 不能早于 2000 年。")
	msgMonthHasNotEndedYet = msg.New("billing.month_has_not_ended_yet",
		"The month %s has not ended yet; a month is rated after it ends.",
		"月份 %s 尚未结束；月份结束后才能计费。")
	msgMonthNotValidUseYyyy = msg.New("billing.month_not_valid_use_yyyy",
		"The month %q is not valid: use YYYY-MM, for example 2026-05.",
		"月份 %q 无效：请用 YYYY-MM 格式，例如 2026-05。")
	msgMonthlyFeeCannotNegative = msg.New("billing.monthly_fee_cannot_negative",
		"The monthly fee cannot be negative.",
		"月费不能为负数。")
	msgNoPlan = msg.New("billing.no_plan",
		"No plan %q.",
		"没有套餐 %q。")
	msgNotAmountYuanMostTwo = msg.New("billing.not_amount_yuan_most_two",
		"%q is not an amount in yuan with at most two decimals (for example 1234.56).",
		"%q 不是有效的金额：应以元为单位，最多两位小数（例如 1234.56）。")
	msgNotValidUtfText = msg.New("billing.not_valid_utf_text",
		"The %s is not valid UTF-8 text.",
		"字段 %s 不是有效的 UTF-8 文本。")
	msgOnlyTenantAdministratorsLeadersPrefecture = msg.New("billing.only_tenant_administrators_leaders_prefecture",
		"Only the tenant's administrators and leaders, the prefecture and the operator see billing.",
		"只有本单位的管理员和领导、上级州（市）及运营方可以查看计费信息。")
	msgPeriodNotOneHourDay = msg.New("billing.period_not_one_hour_day",
		"The period %q is not one of hour, day, month.",
		"周期 %q 无效：可选值为 hour（小时）、day（日）、month（月）。")
	msgPlanChangeCanScheduledMost = msg.New("billing.plan_change_can_scheduled_most",
		"A plan change can be scheduled at most five years ahead.",
		"套餐变更最多提前五年安排。")
	msgPlanChangeCannotStartPast = msg.New("billing.plan_change_cannot_start_past",
		"A plan change cannot start in a past month (%s); the earliest is %s.",
		"套餐变更不能从过去的月份（%s）开始；最早为 %s。")
	msgPlanCodeNotValidUse = msg.New("billing.plan_code_not_valid_use",
		"The plan code %q is not valid: use 2 to 40 lower-case letters, digits and underscores, starting with a letter.",
		"套餐代码 %q 无效：请使用 2 到 40 个小写字母、数字和下划线，并以字母开头。")
	msgPrincipalMustPositiveNumberFen = msg.New("billing.principal_must_positive_number_fen",
		"The principal must be a positive number of fen.",
		"本金必须是正的整数分。")
	msgRateBasisPointsYear = msg.New("billing.rate_basis_points_year",
		"The rate is in basis points, 0 to 2000 (0%% to 20%% a year).",
		"利率以基点为单位，取值 0 到 2000（即年利率 0%% 到 20%%）。")
	msgScheduleHasIssuedInstalmentsCan = msg.New("billing.schedule_has_issued_instalments_can",
		"The schedule of %s has issued instalments and can no longer be replaced; record an adjustment instead.",
		"%s 的还款计划已有分期出账，不能再替换；请改为登记一笔调整。")
	msgScheduleRunsYears = msg.New("billing.schedule_runs_years",
		"The schedule runs 1 to 30 years.",
		"还款计划期限为 1 到 30 年。")
	msgStatementDoesNotReproduceLedger = msg.New("billing.statement_does_not_reproduce_ledger",
		"statement of %s %d does not reproduce the ledger: %d != %d",
		"%s 的 %d 年对账单与台账不符：%d != %d")
	msgStatusNotOnePendingDone = msg.New("billing.status_not_one_pending_done",
		"The status %q is not one of pending, done, dead.",
		"状态 %q 无效：可选值为 pending（待处理）、done（已完成）、dead（已失败）。")
	msgStripeNotConfiguredCityopsStripe = msg.New("billing.stripe_not_configured_cityops_stripe",
		"Stripe is not configured (CITYOPS_STRIPE_KEY); billing runs from the ledger alone.",
		"本部署未配置 Stripe（CITYOPS_STRIPE_KEY），计费仅依据台账进行。")
	msgStripeNotConfiguredDeployment = msg.New("billing.stripe_not_configured_deployment",
		"Stripe is not configured on this deployment.",
		"本部署未配置 Stripe。")
	msgTenantHasNoRepaymentSchedule = msg.New("billing.tenant_has_no_repayment_schedule",
		"This tenant has no repayment schedule.",
		"该单位没有还款计划。")
	msgTermsMeterCannotNegative = msg.New("billing.terms_meter_cannot_negative",
		"The terms of meter %s cannot be negative.",
		"计量项 %s 的额度和计价参数不能为负数。")
	msgThereNoInstalmentSchedule = msg.New("billing.there_no_instalment_schedule",
		"There is no instalment for %d in the schedule of %s.",
		"%d 年在 %s 的还款计划中没有对应的分期。")
	msgThereNoPlan = msg.New("billing.there_no_plan",
		"There is no plan %q.",
		"没有套餐 %q。")
	msgUsageCouldNotRecordedTime = msg.New("billing.usage_could_not_recorded_time",
		"Usage could not be recorded in time; try again.",
		"用量未能及时记录，请重试。")
	msgUsageEventNeedsIdempotencyKey = msg.New("billing.usage_event_needs_idempotency_key",
		"A usage event needs an idempotency key of 1 to 200 characters.",
		"用量事件需要 1 到 200 个字符的幂等键。")
	msgUsageEventNeedsTenant = msg.New("billing.usage_event_needs_tenant",
		"A usage event needs a tenant.",
		"用量事件必须指定单位。")
	msgUsageQuantityCannotNegative = msg.New("billing.usage_quantity_cannot_negative",
		"A usage quantity cannot be negative.",
		"用量数值不能为负数。")
	msgWebhookSignaturePayloadNotValid = msg.New("billing.webhook_signature_payload_not_valid",
		"The webhook's signature or payload is not valid.",
		"Webhook 的签名或数据无效。")
	msgYearMustBetween = msg.New("billing.year_must_between",
		"The year must be between 2000 and 2100.",
		"年份必须在 2000 到 2100 之间。")
)
