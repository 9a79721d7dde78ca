package cases

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgBboxFourNumbers = msg.New("cases.bbox_four_numbers",
		"bbox is minLon,minLat,maxLon,maxLat.",
		"bbox 的格式为 minLon,minLat,maxLon,maxLat。")
	msgBboxMinlonMinlatMaxlonMaxlat = msg.New("cases.bbox_minlon_minlat_maxlon_maxlat",
		"The bbox is minLon,minLat,maxLon,maxLat with min ≤ max.",
		"bbox 的格式为 minLon,minLat,maxLon,maxLat，且最小值不大于最大值。")
	msgBucketDayMonth = msg.New("cases.bucket_day_month",
		"The bucket is day or month.",
		"统计粒度（bucket）为 day（按日）或 month（按月）。")
	msgCaseClosedVoidedCaseNot = msg.New("cases.case_closed_voided_case_not",
		"Case %s is %s; a closed or voided case is not supervised.",
		"案件 %s 当前为 %s；已结案或已作废的案件不能督办。")
	msgCaseDoesNotApplyState = msg.New("cases.case_does_not_apply_state",
		"Case %s is %s: %s does not apply in that state.",
		"案件 %s 当前为 %s：该状态下不能%s。")
	msgCaseHasNoDepartmentYet = msg.New("cases.case_has_no_department_yet",
		"Case %s has no department yet (its standard names none, or the last one returned it); dispatch it with department_id.",
		"案件 %s 尚无责任部门（其立结案标准未指定部门，或上一个部门已将其回退）；请用 department_id 指定派遣部门。")
	msgCaseLoopUsedWithoutTenant = msg.New("cases.case_loop_used_without_tenant",
		"case loop used without a tenant scope",
		"案件流程调用时缺少单位范围")
	msgCaseNoMorePhotos = msg.New("cases.case_no_more_photos",
		"Case %s is %s; no more photos.",
		"案件 %s 当前为 %s；不能再添加照片。")
	msgCaseTakesPostYouHold = msg.New("cases.case_takes_post_you_hold",
		"To %s a case takes the post %s; you hold %s.",
		"%s 案件需要 %s 岗位；您的岗位是 %s。")
	msgCaseVersionNotSomeoneActed = msg.New("cases.case_version_not_someone_acted",
		"Case %s is at version %d, not %d: someone acted on it since you loaded it. Reload it and try again.",
		"案件 %s 已是第 %d 版而不是第 %d 版：在您打开之后有人已办理；请刷新后重试。")
	msgCaseWasChangedSomeoneElse = msg.New("cases.case_was_changed_someone_else",
		"Case %s was changed by someone else just now; reload it and try again.",
		"案件 %s 刚被其他人办理；请刷新后重试。")
	msgCasesReportedInspectorEnteredAcceptor = msg.New("cases.cases_reported_inspector_entered_acceptor",
		"Cases are reported by an inspector (监督员) or entered by an acceptor (受理员).",
		"案件由监督员上报或由受理员录入。")
	msgCheckCaseFoundClosingCondition = msg.New("cases.check_case_found_closing_condition",
		"The check of case %s found the closing condition not met; send it back for rework instead.",
		"案件 %s 的核查结果为未达到结案条件；请改为返工。")
	msgClassHasFilingConditionsChoose = msg.New("cases.class_has_filing_conditions_choose",
		"Class %s has %d filing conditions; choose one with standard_id.",
		"类别 %s 有 %d 个立案条件；请用 standard_id 选择其一。")
	msgClassHasNoGiveDisposal = msg.New("cases.class_has_no_give_disposal",
		"Class %s has no 立结案标准; give the disposal time limit with limit.",
		"类别 %s 没有立结案标准；请用 limit 填写处置时限。")
	msgCursorNotOneApiGave = msg.New("cases.cursor_not_one_api_gave",
		"The cursor is not one this API gave out.",
		"该游标（cursor）不是本接口返回的。")
	msgDateRfcTime = msg.New("cases.date_rfc_time",
		"%s is a date (2026-03-02) or an RFC 3339 time.",
		"%s 应为日期（2026-03-02）或 RFC 3339 时间。")
	msgDescriptionMostCharactersAddressMost = msg.New("cases.description_most_characters_address_most",
		"The description is at most 2000 characters and the address at most 200.",
		"问题描述不超过 2000 个字符，地址不超过 200 个字符。")
	msgEveryAttachmentMustPhotoUploaded = msg.New("cases.every_attachment_must_photo_uploaded",
		"Every attachment must be a photo uploaded to this case.",
		"每个附件都必须是已上传到本案件的照片。")
	msgExtensionMustCountTimeLike = msg.New("cases.extension_must_count_time_like",
		"The extension must count time like the limit (%s).",
		"延期的计时方式必须与时限一致（%s）。")
	msgFeedbackNeedsAfterPhotosUpload = msg.New("cases.feedback_needs_after_photos_upload",
		"Feedback (处理反馈) needs the after-photos: upload them to the case and list their ids in attachments.",
		"处理反馈需要处置后的照片：请先上传照片。")
	msgGiveMapWindowBboxMinlon = msg.New("cases.give_map_window_bbox_minlon",
		"Give the map window as bbox=minLon,minLat,maxLon,maxLat.",
		"请以 bbox=minLon,minLat,maxLon,maxLat 的形式给出地图范围。")
	msgGiveStageLimitEG = msg.New("cases.give_stage_limit_e_g",
		"Give the stage's limit, e.g. {\"limit\":{\"amount\":0.5,\"unit\":\"working_hours\"}}.",
		"请填写该环节的时限，例如 {\"limit\":{\"amount\":0.5,\"unit\":\"working_hours\"}}。")
	msgHandlingStageTimedEachClass = msg.New("cases.handling_stage_timed_each_class",
		"The handling stage is timed by the 立结案标准 of each class; import the standards to change it.",
		"处置环节的时限由各类别的立结案标准确定；如需修改，请导入立结案标准。")
	msgInspectorReportsFromPatrolSource = msg.New("cases.inspector_reports_from_patrol_source",
		"An inspector reports from patrol (source inspector); other sources are entered by the acceptor.",
		"监督员通过巡查上报（来源为 inspector）；其他来源的案件由受理员录入。")
	msgKindComponentEvent = msg.New("cases.kind_component_event",
		"The kind is component (部件) or event (事件).",
		"类型为部件或事件。")
	msgLimitPositiveNumberMost = msg.New("cases.limit_positive_number_most",
		"limit is a positive number (at most 500).",
		"limit 应为正数（最大 500）。")
	msgLimitUrgentCasesUrgentHours = msg.New("cases.limit_urgent_cases_urgent_hours",
		"The limit for urgent cases is in urgent hours (urgent_hours, natural time).",
		"紧急案件的时限以紧急工作时（urgent_hours，按自然时间计算）计。")
	msgMessage = msg.New("cases.message",
		"%s",
		"%s")
	msgMostAttachmentsPerAction = msg.New("cases.most_attachments_per_action",
		"At most 20 attachments per action.",
		"每次操作最多 20 个附件。")
	msgNoCase = msg.New("cases.no_case",
		"No case %s.",
		"没有案件 %s。")
	msgNoDepartment = msg.New("cases.no_department",
		"No department %s.",
		"没有部门 %s。")
	msgNoPhotoCase = msg.New("cases.no_photo_case",
		"No photo %s on case %s.",
		"照片 %s 不在案件 %s 中。")
	msgOnlyInspectorHandlesCaseSpot = msg.New("cases.only_inspector_handles_case_spot",
		"Only an inspector handles a case on the spot (自处理).",
		"只有监督员才能当场处理案件（自处理）。")
	msgOnlyInspectorReportsSourceInspector = msg.New("cases.only_inspector_reports_source_inspector",
		"Only an inspector reports with source inspector.",
		"只有监督员才能以 inspector 来源上报。")
	msgOverdueJobRunWithoutTenant = msg.New("cases.overdue_job_run_without_tenant",
		"overdue job run without a tenant scope",
		"超时检查任务运行时缺少单位范围")
	msgOverdueJobRunWithoutTenant2 = msg.New("cases.overdue_job_run_without_tenant2",
		"overdue job run without a tenant list (cases.Config.Tenants)",
		"超时检查任务运行时缺少单位列表（cases.Config.Tenants）")
	msgPeriodStartBeforeEnd = msg.New("cases.period_start_before_end",
		"The period's start is before its end.",
		"统计时段的开始时间须早于结束时间。")
	msgPhotoEmpty = msg.New("cases.photo_empty",
		"The photo is empty.",
		"照片为空。")
	msgPhotoMayMostMib = msg.New("cases.photo_may_most_mib",
		"A photo may be at most %d MiB.",
		"照片不能超过 %d MiB。")
	msgPhotosJpegPngWebpImages = msg.New("cases.photos_jpeg_png_webp_images",
		"Photos are JPEG, PNG or WebP images.",
		"照片须为 JPEG、PNG 或 WebP 格式的图片。")
	msgPointGGLiesOutside = msg.New("cases.point_g_g_lies_outside",
		"The point (%g, %g) lies outside %s; reports here are for %s only.",
		"坐标点 (%g, %g) 不在%s范围内；这里只受理%s辖区内的问题。")
	msgReWrapWithoutTenantScope = msg.New("cases.re_wrap_without_tenant_scope",
		"re-wrap without a tenant scope",
		"重新加密个人信息时缺少单位范围")
	msgReasonMostCharacters = msg.New("cases.reason_most_characters",
		"The reason is at most 2000 characters.",
		"原因不超过 2000 个字符。")
	msgReporterNameMostCharactersPhone = msg.New("cases.reporter_name_most_characters_phone",
		"The reporter's name is at most 50 characters and the phone at most 30.",
		"上报人姓名不超过 50 个字符，电话不超过 30 个字符。")
	msgSayHowMuchMoreTime = msg.New("cases.say_how_much_more_time",
		"Say how much more time is asked, e.g. {\"amount\":2,\"unit\":\"working_days\"}.",
		"请说明申请延长多少时间，例如 {\"amount\":2,\"unit\":\"working_days\"}。")
	msgSayWhetherClosingConditionHolds = msg.New("cases.say_whether_closing_condition_holds",
		"Say whether the closing condition holds (passed: true or false).",
		"请说明是否达到结案条件。")
	msgSayWhyReasonWhenYou = msg.New("cases.say_why_reason_when_you",
		"Say why (reason) when you %s a case.",
		"%s 案件时请填写原因。")
	msgSendPhotoFormFieldFile = msg.New("cases.send_photo_form_field_file",
		"Send the photo in the form field \"file\".",
		"请通过表单字段 \"file\" 发送照片。")
	msgSourceNotOneInspectorCitizen = msg.New("cases.source_not_one_inspector_citizen",
		"The source %q is not one of inspector, citizen, hotline, video, referral, media, sensor.",
		"来源 %q 不是 inspector（监督员巡查）、citizen（市民）、hotline（12345 热线）、video（视频监控）、referral（上级转办）、media（媒体曝光）、sensor（运行监测）之一。")
	msgImportRunNotOne = msg.New("cases.import_run_not_one",
		"import_run must be the id of an import run (a UUID), not %q.",
		"import_run 必须是导入记录的编号（UUID），而不是 %q。")
	msgStageNotOneAcceptVerify = msg.New("cases.stage_not_one_accept_verify",
		"The stage %q is not one of accept, verify, file, dispatch, handle, send_check, check, close.",
		"环节 %q 不是 accept（受理）、verify（核实）、file（立案）、dispatch（派遣）、handle（处置）、send_check（派核查）、check（核查）、close（结案）之一。")
	msgStageTimeLimitsSetTenant = msg.New("cases.stage_time_limits_set_tenant",
		"Stage time limits are set by the tenant admin.",
		"各环节时限由单位管理员设置。")
	msgStandardNotOneClass = msg.New("cases.standard_not_one_class",
		"Standard %s is not one of class %s.",
		"立结案标准 %s 不属于类别 %s。")
	msgSupervisionLeader = msg.New("cases.supervision_leader",
		"Supervision (督办) is for a leader (领导).",
		"督办由领导岗位办理。")
	msgThereNoCaseAction = msg.New("cases.there_no_case_action",
		"There is no case action %q.",
		"没有案件操作 %q。")
	msgThereNoStageStagesAccept = msg.New("cases.there_no_stage_stages_accept",
		"There is no stage %q; the stages are accept, verify, file, dispatch, send_check, check, close.",
		"没有环节 %q；环节包括 accept（受理）、verify（核实）、file（立案）、dispatch（派遣）、send_check（派核查）、check（核查）、close（结案）。")
	msgTitle = msg.New("cases.title",
		"Case loop",
		"指挥协调")
	msgTrueFalse = msg.New("cases.true_false",
		"%s is true or false.",
		"%s 应为 true 或 false。")
	msgUploadedPhotoCannotRead = msg.New("cases.uploaded_photo_cannot_read",
		"The uploaded photo cannot be read.",
		"无法读取上传的照片。")
	msgYouNotRecordedStaffDepartment = msg.New("cases.you_not_recorded_staff_department",
		"You are not recorded as staff of the department case %s is dispatched to.",
		"您不是案件 %s 所派遣部门的工作人员。")
	msgYourAccessReadOnly = msg.New("cases.your_access_read_only",
		"Your access is read-only.",
		"您的访问是只读的。")
)
