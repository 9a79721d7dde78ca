package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

var httpClient = &http.Client{Timeout: 15 * time.Second}

// sendMail sends one plain-text UTF-8 message over SMTP: STARTTLS when the server offers it (and
// required with TLS "starttls" when a password is to be sent), implicit TLS with "tls", plain with
// "none" (a local relay).
func sendMail(ctx context.Context, cfg SMTP, to, subject, body, messageID string) error {
	if cfg.Host == "" {
		return permanent(errors.New("no SMTP server configured"))
	}
	if strings.ContainsAny(to, "\r\n") || strings.ContainsAny(cfg.From, "\r\n") {
		return permanent(errors.New("an address holds a line break"))
	}
	port := cfg.Port
	if port == 0 {
		port = 587
		if cfg.TLS == "tls" {
			port = 465
		}
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(port))
	d := net.Dialer{Timeout: 15 * time.Second}
	var conn net.Conn
	var err error
	tlsCfg := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.TLS == "tls" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
	}
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if cfg.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsCfg); err != nil {
				return fmt.Errorf("smtp starttls: %w", err)
			}
		} else if cfg.Password != "" {
			return permanent(errors.New("smtp: the server offers no STARTTLS; refusing to send the password in clear"))
		}
	}
	if cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	from := cfg.From
	if from == "" {
		from = "cityops@localhost"
	}
	if err := c.Mail(from); err != nil {
		return smtpErr(err)
	}
	if err := c.Rcpt(to); err != nil {
		return smtpErr(err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr(err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n",
		from, to, mime.BEncoding.Encode("UTF-8", subject), time.Now().Format(time.RFC1123Z), messageID)
	b.WriteString("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := w.Close(); err != nil {
		return smtpErr(err)
	}
	return c.Quit()
}

// smtpErr makes a 5xx reply (the server refuses for good) permanent.
func smtpErr(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return permanent(fmt.Errorf("smtp: %w", err))
	}
	return fmt.Errorf("smtp: %w", err)
}

// WeCom group robot error codes after which retrying is useless: an invalid or removed key
// (93000 invalid webhook url, 40001/40014 invalid credential or token), content the robot
// refuses (40008 invalid message type, 40058 bad parameter, 44004 empty content, 45009 is the
// rate limit and is retried).
var wecomPermanent = map[int]bool{93000: true, 40001: true, 40014: true, 40008: true, 40058: true, 44004: true}

// sendWeCom posts markdown to the robot with key.
func (s *Service) sendWeCom(ctx context.Context, key, markdown string) error {
	if r := []byte(markdown); len(r) > 4096 {
		markdown = string(r[:4000]) + "…"
		markdown = strings.ToValidUTF8(markdown, "")
	}
	body, _ := json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": markdown}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.wecom+"?key="+url.QueryEscape(key), bytes.NewReader(body))
	if err != nil {
		return permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("wecom: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wecom: HTTP %d", resp.StatusCode)
	}
	var out struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("wecom: the answer is not JSON")
	}
	if out.ErrCode != 0 {
		err := fmt.Errorf("wecom: errcode %d: %.200s", out.ErrCode, out.ErrMsg)
		if wecomPermanent[out.ErrCode] {
			return permanent(err)
		}
		return err
	}
	return nil
}

// SMS is one text message from a template.
type SMS struct {
	AccessKeyID, AccessKeySecret  string
	Phone, SignName, TemplateCode string
	// TemplateParam is the template's variables, a JSON object.
	TemplateParam string
	// OutID is the caller's id of the message (the delivery), echoed in receipts.
	OutID string
}

// Provider sends text messages.
type Provider interface {
	Send(ctx context.Context, m SMS) error
}

// Aliyun sends SMS through Aliyun's dysmsapi SendSms (RPC style, signature version 1.0).
type Aliyun struct {
	// Endpoint is the API's address; empty is https://dysmsapi.aliyuncs.com/.
	Endpoint string
	// Now and Nonce are the clock and the nonce source (tests pin them); nil: the real ones.
	Now   func() time.Time
	Nonce func() string
}

var _ Provider = (*Aliyun)(nil)

// aliyunPermanent are SendSms codes retrying cannot fix.
var aliyunPermanent = map[string]bool{
	"isv.SMS_SIGNATURE_ILLEGAL": true, "isv.SMS_TEMPLATE_ILLEGAL": true, "isv.MOBILE_NUMBER_ILLEGAL": true,
	"isv.TEMPLATE_MISSING_PARAMETERS": true, "isv.INVALID_PARAMETERS": true, "InvalidAccessKeyId.NotFound": true,
	"SignatureDoesNotMatch": true, "isv.ACCOUNT_NOT_EXISTS": true, "isv.PARAM_LENGTH_LIMIT": true,
	"isv.DENY_IP_RANGE": true, "isv.BLACK_KEY_CONTROL_LIMIT": true, "isv.AMOUNT_NOT_ENOUGH": false,
}

// AliyunPercentEncode is Aliyun's percent-encoding of the RPC signature: RFC 3986 unreserved
// characters kept, everything else %XX upper-case (space %20, * %2A, ~ kept).
func AliyunPercentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// AliyunSign is the RPC signature of params for method with secret: HMAC-SHA1 (key secret + "&")
// over method&%2F&percentEncode(canonicalized query), base64.
func AliyunSign(method string, params url.Values, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, AliyunPercentEncode(k)+"="+AliyunPercentEncode(params.Get(k)))
	}
	toSign := method + "&" + AliyunPercentEncode("/") + "&" + AliyunPercentEncode(strings.Join(parts, "&"))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Send calls SendSms.
func (a *Aliyun) Send(ctx context.Context, m SMS) error {
	now, nonce := time.Now, uuid.NewString
	if a.Now != nil {
		now = a.Now
	}
	if a.Nonce != nil {
		nonce = a.Nonce
	}
	endpoint := a.Endpoint
	if endpoint == "" {
		endpoint = "https://dysmsapi.aliyuncs.com/"
	}
	p := url.Values{}
	p.Set("AccessKeyId", m.AccessKeyID)
	p.Set("Action", "SendSms")
	p.Set("Format", "JSON")
	p.Set("OutId", m.OutID)
	p.Set("PhoneNumbers", m.Phone)
	p.Set("RegionId", "cn-hangzhou")
	p.Set("SignName", m.SignName)
	p.Set("SignatureMethod", "HMAC-SHA1")
	p.Set("SignatureNonce", nonce())
	p.Set("SignatureVersion", "1.0")
	p.Set("TemplateCode", m.TemplateCode)
	p.Set("TemplateParam", m.TemplateParam)
	p.Set("Timestamp", now().UTC().Format("2006-01-02T15:04:05Z"))
	p.Set("Version", "2017-05-25")
	p.Set("Signature", AliyunSign(http.MethodPost, p, m.AccessKeySecret))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(p.Encode()))
	if err != nil {
		return permanent(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("aliyun sms: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var out struct {
		Code, Message, BizID, RequestID string
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("aliyun sms: HTTP %d, the answer is not JSON", resp.StatusCode)
	}
	if out.Code != "OK" {
		err := fmt.Errorf("aliyun sms: %.100s: %.200s", out.Code, out.Message)
		if aliyunPermanent[out.Code] {
			return permanent(err)
		}
		return err
	}
	return nil
}
