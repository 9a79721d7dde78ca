package open311

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
)

// Format is the response format, from the path's extension.
type Format string

// The formats: XML is the spec's required one, JSON the optional one.
const (
	XML  Format = "xml"
	JSON Format = "json"
)

// ParseFormat reads the extension of the path; ok is false for anything else.
func ParseFormat(s string) (Format, bool) {
	switch Format(s) {
	case XML, JSON:
		return Format(s), true
	}
	return "", false
}

// ContentType is the media type of f.
func (f Format) ContentType() string {
	if f == JSON {
		return "application/json; charset=utf-8"
	}
	return "text/xml; charset=utf-8"
}

// PublicService is a GeoReport service (a public minor class).
type PublicService struct {
	Code        string `xml:"service_code" json:"service_code"`
	Name        string `xml:"service_name" json:"service_name"`
	Description string `xml:"description" json:"description"`
	Metadata    bool   `xml:"metadata" json:"metadata"`
	Type        string `xml:"type" json:"type"`
	Keywords    string `xml:"keywords" json:"keywords"`
	Group       string `xml:"group" json:"group"`
}

// ServiceDefinition is a service's extra attributes (none so far: a case needs only the
// class, the location and the description).
type ServiceDefinition struct {
	XMLName     xml.Name    `xml:"service_definition" json:"-"`
	ServiceCode string      `xml:"service_code" json:"service_code"`
	Attributes  []Attribute `xml:"attributes>attribute" json:"attributes"`
}

// Attribute is one attribute of a service definition.
type Attribute struct {
	Variable            bool   `xml:"variable" json:"variable"`
	Code                string `xml:"code" json:"code"`
	Datatype            string `xml:"datatype" json:"datatype"`
	Required            bool   `xml:"required" json:"required"`
	DatatypeDescription string `xml:"datatype_description" json:"datatype_description"`
	Order               int    `xml:"order" json:"order"`
	Description         string `xml:"description" json:"description"`
}

// Receipt answers a POST requests (and GET tokens).
type Receipt struct {
	ID            string `xml:"service_request_id" json:"service_request_id"`
	Token         string `xml:"token,omitempty" json:"token,omitempty"`
	ServiceNotice string `xml:"service_notice,omitempty" json:"service_notice,omitempty"`
	AccountID     string `xml:"account_id,omitempty" json:"account_id,omitempty"`
}

// Request is a GeoReport service request: a case as the public sees it.
type Request struct {
	ID                string  `xml:"service_request_id" json:"service_request_id"`
	Status            string  `xml:"status" json:"status"`
	StatusNotes       string  `xml:"status_notes" json:"status_notes"`
	ServiceName       string  `xml:"service_name" json:"service_name"`
	ServiceCode       string  `xml:"service_code" json:"service_code"`
	Description       string  `xml:"description" json:"description"`
	AgencyResponsible string  `xml:"agency_responsible" json:"agency_responsible"`
	ServiceNotice     string  `xml:"service_notice" json:"service_notice"`
	RequestedDatetime string  `xml:"requested_datetime" json:"requested_datetime"`
	UpdatedDatetime   string  `xml:"updated_datetime" json:"updated_datetime"`
	ExpectedDatetime  string  `xml:"expected_datetime" json:"expected_datetime"`
	Address           string  `xml:"address" json:"address"`
	AddressID         string  `xml:"address_id" json:"address_id"`
	Zipcode           string  `xml:"zipcode" json:"zipcode"`
	Lat               float64 `xml:"lat" json:"lat"`
	Long              float64 `xml:"long" json:"long"`
	MediaURL          string  `xml:"media_url" json:"media_url"`
}

// Update is one entry of the servicerequestupdates extension.
type Update struct {
	UpdateID         string `xml:"update_id" json:"update_id"`
	ServiceRequestID string `xml:"service_request_id" json:"service_request_id"`
	Status           string `xml:"status" json:"status"`
	UpdatedDatetime  string `xml:"updated_datetime" json:"updated_datetime"`
	Description      string `xml:"description" json:"description"`
	MediaURL         string `xml:"media_url" json:"media_url"`
}

// Error is one entry of an error response.
type Error struct {
	Code        int    `xml:"code" json:"code"`
	Description string `xml:"description" json:"description"`
}

// Discovery describes the endpoint (GET discovery).
type Discovery struct {
	XMLName    xml.Name   `xml:"discovery" json:"-"`
	Changeset  string     `xml:"changeset" json:"changeset"`
	Contact    string     `xml:"contact" json:"contact"`
	KeyService string     `xml:"key_service" json:"key_service"`
	Endpoints  []Endpoint `xml:"endpoints>endpoint" json:"endpoints"`
}

// Endpoint is one endpoint of the discovery document.
type Endpoint struct {
	Specification string   `xml:"specification" json:"specification"`
	URL           string   `xml:"url" json:"url"`
	Changeset     string   `xml:"changeset" json:"changeset"`
	Type          string   `xml:"type" json:"type"`
	Formats       []string `xml:"formats>format" json:"formats"`
}

// The XML roots of the lists.
type (
	xmlServices struct {
		XMLName  xml.Name        `xml:"services"`
		Services []PublicService `xml:"service"`
	}
	xmlRequests struct {
		XMLName  xml.Name  `xml:"service_requests"`
		Requests []Request `xml:"request"`
	}
	xmlReceipts struct {
		XMLName  xml.Name  `xml:"service_requests"`
		Requests []Receipt `xml:"request"`
	}
	xmlUpdates struct {
		XMLName xml.Name `xml:"service_request_updates"`
		Updates []Update `xml:"request_update"`
	}
	xmlSurveys struct {
		XMLName xml.Name        `xml:"surveys"`
		Surveys []SurveyReceipt `xml:"survey"`
	}
	xmlErrors struct {
		XMLName xml.Name `xml:"errors"`
		Errors  []Error  `xml:"error"`
	}
)

// Encode renders v in f: XML with the declaration and the spec's root element, or JSON where
// every list is a bare array. v is one of []PublicService, *ServiceDefinition, []Request,
// []Receipt, []Update, []Error, []SurveyReceipt (the survey extension), *Discovery.
func Encode(f Format, v any) ([]byte, error) {
	if f == JSON {
		return json.Marshal(v)
	}
	var root any
	switch x := v.(type) {
	case []PublicService:
		root = xmlServices{Services: x}
	case []Request:
		root = xmlRequests{Requests: x}
	case []Receipt:
		root = xmlReceipts{Requests: x}
	case []Update:
		root = xmlUpdates{Updates: x}
	case []Error:
		root = xmlErrors{Errors: x}
	case []SurveyReceipt:
		root = xmlSurveys{Surveys: x}
	case *ServiceDefinition, *Discovery:
		root = x
	default:
		return nil, fmt.Errorf("open311: cannot encode %T", v)
	}
	b, err := xml.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}
