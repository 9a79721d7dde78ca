package secrets

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgAuthorCredentialNotValidText = msg.New("secrets.author_credential_not_valid_text",
		"The author of the credential is not valid text of at most 200 bytes.",
		"凭据设置人必须是不超过 200 字节的有效文本。")
	msgCiphertextCannotDecryptedTenantKey = msg.New("secrets.ciphertext_cannot_decrypted_tenant_key",
		"The ciphertext cannot be decrypted with this tenant's key: it is damaged or belongs to another tenant.",
		"无法用本单位的密钥解密该密文：密文已损坏或属于其他单位。")
	msgCiphertextNamesKeyVersionWhich = msg.New("secrets.ciphertext_names_key_version_which",
		"The ciphertext names key version %d, which the tenant's key does not have.",
		"密文标明的密钥版本为 %d，但该单位的密钥没有这个版本。")
	msgCiphertextWasMadeAnotherSecret = msg.New("secrets.ciphertext_was_made_another_secret",
		"The ciphertext was made by another secret store (%s); this deployment uses %s.",
		"该密文由另一种密钥存储（%s）生成；本部署使用的是 %s。")
	msgCiphertextWasMadeKeyVersion = msg.New("secrets.ciphertext_was_made_key_version",
		"The ciphertext was made by key version %d, older than the tenant's minimum decryption version %d; it had to be re-wrapped first.",
		"该密文由密钥版本 %d 生成，低于该单位的最低解密版本 %d；应先对其重新封装。")
	msgCiphertextWasMadeKeyVersion2 = msg.New("secrets.ciphertext_was_made_key_version2",
		"The ciphertext was made by a key version older than the tenant's minimum decryption version; it had to be re-wrapped first.",
		"该密文所用的密钥版本低于该单位的最低解密版本；应先对其重新封装。")
	msgCredentialNameNotValidUse = msg.New("secrets.credential_name_not_valid_use",
		"The credential name %q is not valid: use 2 to 64 lower-case letters, digits, '_', '.' or '-', starting with a letter (for example \"sms_gateway\").",
		"凭据名称 %q 无效：请使用 2 到 64 个小写字母、数字、'_'、'.' 或 '-'，并以字母开头（例如 sms_gateway）。")
	msgCredentialTenantCannotUnsealed = msg.New("secrets.credential_tenant_cannot_unsealed",
		"credential %s of tenant %s cannot be unsealed",
		"凭据 %s（单位 %s）无法解封")
	msgCredentialValueEmpty = msg.New("secrets.credential_value_empty",
		"The credential value is empty.",
		"凭据值为空。")
	msgCredentialValueLongerThanBytes = msg.New("secrets.credential_value_longer_than_bytes",
		"The credential value is longer than %d bytes.",
		"凭据值不能超过 %d 字节。")
	msgCredentialValueNotValidUtf = msg.New("secrets.credential_value_not_valid_utf",
		"The credential value is not valid UTF-8 text; encode binary values (for example in base64).",
		"凭据值不是有效的 UTF-8 文本；二进制值请先编码（例如 base64）。")
	msgDataWasDestroyedEncryptionKey = msg.New("secrets.data_was_destroyed_encryption_key",
		"The data was destroyed: the encryption key of tenant %s was destroyed when it was offboarded.",
		"数据已销毁：单位 %s 注销时，其加密密钥已被销毁。")
	msgKeyServiceVaultCannotReached = msg.New("secrets.key_service_vault_cannot_reached",
		"The key service (Vault) cannot be reached; operations that need encryption keys are unavailable. Try again later.",
		"无法连接密钥服务（Vault），需要加密密钥的操作暂不可用，请稍后再试。")
	msgKeyServiceVaultDeniedApp = msg.New("secrets.key_service_vault_denied_app",
		"The key service (Vault) denied the app permission for this operation; the operator must apply the policy in deploy/vault/cityops-app.hcl.",
		"密钥服务（Vault）未授予应用执行此操作的权限；运营方须应用 deploy/vault/cityops-app.hcl 中的策略。")
	msgKeyServiceVaultDidNot = msg.New("secrets.key_service_vault_did_not",
		"The key service (Vault) did not answer in time; operations that need encryption keys are unavailable. Try again later.",
		"密钥服务（Vault）未及时响应，需要加密密钥的操作暂不可用，请稍后再试。")
	msgKeyServiceVaultFailedAnswer = msg.New("secrets.key_service_vault_failed_answer",
		"The key service (Vault) failed to answer; operations that need encryption keys are unavailable. Try again later.",
		"密钥服务（Vault）响应失败，需要加密密钥的操作暂不可用，请稍后再试。")
	msgKeyServiceVaultRefusedApp = msg.New("secrets.key_service_vault_refused_app",
		"The key service (Vault) refused the app's login (%s); operations that need encryption keys are unavailable until the operator fixes it.",
		"密钥服务（Vault）拒绝了应用的登录（%s）；在运营方修复之前，需要加密密钥的操作均不可用。")
	msgKeyServiceVaultSealedUnavailable = msg.New("secrets.key_service_vault_sealed_unavailable",
		"The key service (Vault) is sealed or unavailable; operations that need encryption keys are unavailable. Try again later.",
		"密钥服务（Vault）已封存或不可用，需要加密密钥的操作暂不可用，请稍后再试。")
	msgLocalKeyringCannotRead = msg.New("secrets.local_keyring_cannot_read",
		"The local keyring cannot be read.",
		"无法读取本地密钥环。")
	msgLocalKeyringDatabaseCannotUsed = msg.New("secrets.local_keyring_database_cannot_used",
		"The local keyring's database cannot be used; try again later.",
		"本地密钥环的数据库暂不可用，请稍后再试。")
	msgMessage = msg.New("secrets.message",
		"%s",
		"%s")
	msgMinimumDecryptionVersionMustBetween = msg.New("secrets.minimum_decryption_version_must_between",
		"The minimum decryption version must be between 1 and the latest version, %d.",
		"最低解密版本必须在 1 到最新版本 %d 之间。")
	msgSecretStoreConfigurationInvalid = msg.New("secrets.secret_store_configuration_invalid",
		"The secret store configuration is invalid: %s",
		"密钥存储配置无效：%s")
	msgTenantHasNoEncryptionKey = msg.New("secrets.tenant_has_no_encryption_key",
		"Tenant %s has no encryption key yet; its provisioning has not finished.",
		"单位 %s 还没有加密密钥，其开通尚未完成。")
	msgTenantIdRequired = msg.New("secrets.tenant_id_required",
		"A tenant id is required.",
		"必须提供单位 ID。")
	msgTenantKeyVersionCannotUnwrapped = msg.New("secrets.tenant_key_version_cannot_unwrapped",
		"tenant %s key version %d cannot be unwrapped",
		"单位 %s 的密钥版本 %d 无法解封")
	msgThereNoCredentialNamed = msg.New("secrets.there_no_credential_named",
		"There is no credential named %s.",
		"没有名为 %s 的凭据。")
	msgTransit = msg.New("secrets.transit",
		"transit: %s",
		"transit：%s")
	msgValueBytesMostBytesCan = msg.New("secrets.value_bytes_most_bytes_can",
		"Value %d is %d bytes; at most %d bytes can be encrypted at once.",
		"第 %d 个值为 %d 字节；单次最多只能加密 %d 字节。")
	msgValueNotCiphertextPlatform = msg.New("secrets.value_not_ciphertext_platform",
		"The value is not a ciphertext of this platform.",
		"该值不是本平台的密文。")
	msgVaultAnsweredResultsValues = msg.New("secrets.vault_answered_results_values",
		"vault %s answered %d results for %d values",
		"Vault %s 返回了 %d 个结果，但提交了 %d 个值")
	msgVaultConfigurationInvalid = msg.New("secrets.vault_configuration_invalid",
		"The Vault configuration is invalid: %s",
		"Vault 配置无效：%s")
	msgVaultDecryptReturnedBadBase64 = msg.New("secrets.vault_decrypt_returned_bad_base64",
		"vault decrypt returned bad base64",
		"Vault 解密返回了无效的 base64")
	msgVaultEncryptReturnedNoCiphertext = msg.New("secrets.vault_encrypt_returned_no_ciphertext",
		"vault encrypt returned no ciphertext",
		"Vault 加密未返回密文")
	msgVaultRefusedAppCredentials = msg.New("secrets.vault_refused_app_credentials",
		"Vault refused the app's credentials: %s",
		"Vault 拒绝了应用的凭据：%s")
	msgVaultRequestFailed = msg.New("secrets.vault_request_failed",
		"vault request failed",
		"Vault 请求失败")
	msgVaultTokenMayNotUse = msg.New("secrets.vault_token_may_not_use",
		"The Vault token may not use the tenants' transit keys (capabilities on %s: %v); apply the policy in deploy/vault/cityops-app.hcl.",
		"Vault 令牌无权使用各单位的 transit 密钥（%s 上的权限：%v）；请应用 deploy/vault/cityops-app.hcl 中的策略。")
)
