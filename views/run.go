// Package views is Modelsmith's desktop app: one file per screen, each a
// constructor taking the Studio and the window and returning a
// fyne.CanvasObject. Views are thin: every operation is a use case of
// app.Studio, run off the UI goroutine, its results posted back with fyne.Do.
//
// Only views imports Fyne, and only views calls fyne.Do.
package views

import (
	"context"
	"fmt"
	"os"
	"runtime"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
	"modelsmith/resources"
)

// AppID is the application's unique id (also in FyneApp.toml).
const AppID = "io.modelsmith.studio"

// Run opens the desktop app on the workspace opts names and blocks until the
// window closes. It returns the process exit code.
func Run(opts app.Options) int {
	if msg := noDisplay(); msg != "" {
		fmt.Fprintln(os.Stderr, "modelsmith: "+msg)
		return 1
	}

	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", resources.Icon()))
	w := a.NewWindow("Modelsmith")
	w.Resize(fyne.NewSize(1200, 780))

	studio, err := app.Open(context.Background(), opts, nil)
	if err != nil {
		// Started from a desktop icon there is no terminal: say it in a window.
		fmt.Fprintln(os.Stderr, "modelsmith:", err)
		msg := widget.NewLabel("Modelsmith could not open the workspace:\n\n" + err.Error())
		msg.Wrapping = fyne.TextWrapWord
		w.SetContent(container.NewBorder(nil, container.NewHBox(widget.NewButton("Quit", a.Quit)), nil, nil, msg))
		w.ShowAndRun()
		return 1
	}
	defer studio.Close()
	shell := NewShell(studio, w)
	w.SetContent(shell.Content())
	w.SetOnDropped(shell.Dropped)
	w.SetCloseIntercept(func() {
		shell.Close()
		w.Close()
	})
	w.ShowAndRun()
	return 0
}

// noDisplay explains, on Linux and BSD, why no window can open.
func noDisplay() string {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
	default:
		return ""
	}
	if os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "" {
		return ""
	}
	return "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the desktop app cannot open.\n" +
		"Everything it does can be done from the command line: run 'modelsmith --help'."
}
