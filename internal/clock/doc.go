// Package clock owns the platform's time: its one real clock (Now, the default of every injected
// "now") and its one time zone (China), in which every day, month and year boundary is drawn.
package clock
