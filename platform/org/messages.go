package org

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgDepartmentCannotPlacedUnderItself = msg.New("org.department_cannot_placed_under_itself",
		"A department cannot be placed under itself or its own sub-department.",
		"部门不能放在自身或其下级部门之下。")
	msgDepartmentCodeLettersDigitsDots = msg.New("org.department_code_letters_digits_dots",
		"A department code is 1 to 32 letters, digits, dots, dashes or underscores.",
		"部门代码为 1 到 32 个字母、数字、点、短横线或下划线。")
	msgDepartmentCodeNameAlreadyExists = msg.New("org.department_code_name_already_exists",
		"A department with the code %s or the name %s already exists.",
		"代码为 %s 或名称为 %s 的部门已存在。")
	msgDepartmentNeedsNameMostCharacters = msg.New("org.department_needs_name_most_characters",
		"A department needs a name of at most 100 characters.",
		"部门名称必填，且不超过 100 个字符。")
	msgDepartmentStillHasSubDepartments = msg.New("org.department_still_has_sub_departments",
		"The department still has sub-departments, staff or standards; move them first.",
		"该部门下仍有下级部门、工作人员或立结案标准；请先将其移走。")
	msgDepartmentsHaveMostThreeLevels = msg.New("org.departments_have_most_three_levels",
		"Departments have at most three levels; %s is already at level 3.",
		"部门最多三级；%s 已是第三级。")
	msgHandlerBelongsDepartment = msg.New("org.handler_belongs_department",
		"A handler (处置人员) belongs to a department.",
		"处置人员必须属于某个部门。")
	msgIdentityAlreadyStaffMemberHere = msg.New("org.identity_already_staff_member_here",
		"That identity is already a staff member here.",
		"该身份已是本单位的工作人员。")
	msgIdentityIdUuid = msg.New("org.identity_id_uuid",
		"An identity id is a UUID.",
		"身份 id 应为 UUID。")
	msgMovingThereWouldPutSub = msg.New("org.moving_there_would_put_sub",
		"Moving %s there would put its sub-departments below level 3.",
		"把 %s 移到那里会使其下级部门超过三级。")
	msgNoDepartment = msg.New("org.no_department",
		"No department %s.",
		"没有部门 %s。")
	msgNoStaffMember = msg.New("org.no_staff_member",
		"No staff member %s.",
		"没有工作人员 %s。")
	msgPhoneNumberMostCharacters = msg.New("org.phone_number_most_characters",
		"A phone number is at most 32 characters.",
		"电话号码不超过 32 个字符。")
	msgPostNotOneInspectorAcceptor = msg.New("org.post_not_one_inspector_acceptor",
		"The post %q is not one of inspector, acceptor, shift_lead, dispatcher, handler, leader.",
		"岗位 %q 不是监督员、受理员、值班长、派遣员、处置人员、领导之一。")
	msgStaffMemberNeedsNameMost = msg.New("org.staff_member_needs_name_most",
		"A staff member needs a name of at most 100 characters.",
		"工作人员姓名必填，且不超过 100 个字符。")
	msgTitle = msg.New("org.title",
		"Organisation",
		"组织机构")
)
