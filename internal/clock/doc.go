// Package clock owns the platform's time zone: China, in which every day, month and year boundary
// is drawn.
package clock
