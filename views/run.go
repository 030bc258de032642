// Package views is Modelsmith's desktop app: one file per screen, each a
// constructor taking the Studio and the window and returning a
// fyne.CanvasObject. Views are thin: every operation is a use case of
// app.Studio, run off the UI goroutine, its results posted back with fyne.Do.
//
// Only views imports Fyne, and only views calls fyne.Do.
package views

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fynedesktop "fyne.io/fyne/v2/driver/desktop"
	fynestorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
	"modelsmith/resources"
)

// AppID is the application's unique id (also in FyneApp.toml).
const AppID = "io.modelsmith.studio"

// EnvDemo names a folder: when set, the app drives itself through every
// screen, saves a screenshot of each in light and dark theme there, and quits
// (scripts/screenshot.sh).
const EnvDemo = "MODELSMITH_DEMO"

// Run opens the desktop app on the workspace opts names and blocks until the
// window closes. It returns the process exit code.
func Run(opts app.Options) int {
	if msg := noDisplay(); msg != "" {
		fmt.Fprintln(os.Stderr, "modelsmith: "+msg)
		return 1
	}
	started := time.Now()
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", resources.Icon()))
	d := newDesktop(a, a.NewWindow("Modelsmith"))
	d.demoDir = os.Getenv(EnvDemo)
	d.started = started
	d.win.Resize(fyne.NewSize(1200, 780))
	d.win.SetCloseIntercept(d.quit)
	a.Lifecycle().SetOnStarted(func() { d.firstFrame = time.Since(started) })
	d.open(opts)
	d.win.ShowAndRun()
	return d.exit
}

// desktop is the main window around one open workspace at a time: the menu,
// drag-and-drop and closing belong to it; everything else to the Shell of the
// workspace now open. New/Open workspace replace the Studio and its Shell.
type desktop struct {
	app fyne.App
	win fyne.Window

	// UI goroutine only.
	studio  *app.Studio
	shell   *Shell
	opening bool
	exit    int

	demoDir string
	started time.Time
	// firstFrame is when the window first showed (its "Opening…" content),
	// workspaceShown when the workspace's screens replaced it; both since
	// the process started Run. The demo reports them.
	firstFrame, workspaceShown time.Duration
}

func newDesktop(a fyne.App, w fyne.Window) *desktop {
	d := &desktop{app: a, win: w}
	w.SetMainMenu(d.menu())
	w.SetOnDropped(func(p fyne.Position, uris []fyne.URI) {
		if d.shell != nil {
			d.shell.Dropped(p, uris)
		}
	})
	return d
}

type menuAction struct {
	label string
	key   fyne.KeyName
	do    func()
	quit  bool
}

func (d *desktop) menu() *fyne.MainMenu {
	actions := []menuAction{
		{label: "New workspace…", key: fyne.KeyN, do: d.newWorkspaceDialog},
		{label: "Open workspace…", key: fyne.KeyO, do: d.openWorkspaceDialog},
		{label: "Import data…", key: fyne.KeyI, do: func() {
			if d.shell != nil {
				d.shell.openImportDialog()
			}
		}},
		{label: "Export model…", key: fyne.KeyE, do: func() {
			if d.shell != nil {
				d.shell.exportModelDialog()
			}
		}},
		{label: "Quit", key: fyne.KeyQ, do: d.quit, quit: true},
	}
	var items []*fyne.MenuItem
	for i, a := range actions {
		if a.quit && i > 0 {
			items = append(items, fyne.NewMenuItemSeparator())
		}
		item := fyne.NewMenuItem(a.label, a.do)
		item.IsQuit = a.quit
		sc := &fynedesktop.CustomShortcut{KeyName: a.key, Modifier: fyne.KeyModifierShortcutDefault}
		item.Shortcut = sc
		items = append(items, item)
		if runtime.GOOS != "darwin" { // macOS's native menu handles them itself
			do := a.do
			d.win.Canvas().AddShortcut(sc, func(fyne.Shortcut) { do() })
		}
	}
	return fyne.NewMainMenu(fyne.NewMenu("File", items...))
}

// open closes the workspace now open (stopping its work) and opens the one
// opts names, off the UI goroutine: seeding a new workspace with the samples
// takes seconds, and the window shows at once meanwhile.
func (d *desktop) open(opts app.Options) {
	if d.opening {
		return
	}
	d.opening = true
	path := opts.Path
	if path == "" {
		path, _ = app.DefaultPath()
	}
	bar := widget.NewProgressBarInfinite()
	msg := widget.NewLabel("Opening " + path + "…")
	msg.Wrapping = fyne.TextWrapWord
	d.win.SetContent(container.NewCenter(container.NewVBox(msg, container.NewGridWrap(fyne.NewSize(420, bar.MinSize().Height), bar))))
	old, oldStudio := d.shell, d.studio
	d.shell, d.studio = nil, nil
	go func() {
		if old != nil {
			old.Close()
			oldStudio.Close()
		}
		studio, err := app.Open(context.Background(), opts, func(p app.Progress) {
			post(func() { msg.SetText("Opening " + path + ": " + p.Message) })
		})
		post(func() {
			d.opening = false
			if err != nil {
				d.showOpenError(path, err)
				return
			}
			d.studio = studio
			d.shell = NewShell(studio, d.win, func(create bool) {
				if create {
					d.newWorkspaceDialog()
				} else {
					d.openWorkspaceDialog()
				}
			})
			d.win.SetContent(d.shell.Content())
			d.win.SetTitle("Modelsmith — " + filepath.Base(studio.Path()))
			if d.workspaceShown == 0 && !d.started.IsZero() {
				d.workspaceShown = time.Since(d.started)
			}
			if d.demoDir != "" {
				go d.runDemo(d.demoDir)
			}
		})
	}()
}

// showOpenError says in the window why a workspace could not be opened:
// started from a desktop icon there is no terminal to read.
func (d *desktop) showOpenError(path string, err error) {
	fmt.Fprintln(os.Stderr, "modelsmith:", err)
	d.win.SetTitle("Modelsmith")
	msg := widget.NewLabel("Modelsmith could not open the workspace " + path + ":\n\n" + err.Error())
	msg.Wrapping = fyne.TextWrapWord
	d.win.SetContent(container.NewBorder(nil, container.NewHBox(
		widget.NewButtonWithIcon("Open another workspace…", theme.FolderOpenIcon(), d.openWorkspaceDialog),
		widget.NewButtonWithIcon("New workspace…", theme.ContentAddIcon(), d.newWorkspaceDialog),
		widget.NewButton("Quit", d.quit)), nil, nil, msg))
	if d.demoDir != "" {
		d.exit = 1
		d.app.Quit()
	}
}

// workspaceExt is the file extension of workspaces.
const workspaceExt = ".modelsmith"

func (d *desktop) newWorkspaceDialog() {
	dlg := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			d.alert("Could not create the workspace", err)
			return
		}
		if w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		// The save dialog has just created the file empty: a new workspace
		// starts from nothing.
		if st, err := os.Stat(path); err == nil && st.Size() == 0 {
			os.Remove(path)
		}
		if !strings.HasSuffix(path, workspaceExt) {
			path += workspaceExt
			if _, err := os.Stat(path); err == nil {
				d.alert("Could not create the workspace", fmt.Errorf("%s already exists: open it with File → Open workspace…", path))
				return
			}
		}
		d.open(app.Options{Path: path})
	}, d.win)
	dlg.SetFileName("workspace" + workspaceExt)
	dlg.SetFilter(fynestorage.NewExtensionFileFilter([]string{workspaceExt}))
	dlg.Resize(fyne.NewSize(900, 600))
	dlg.Show()
}

func (d *desktop) openWorkspaceDialog() {
	dlg := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			d.alert("Could not open the workspace", err)
			return
		}
		if r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		d.open(app.Options{Path: path})
	}, d.win)
	dlg.SetFilter(fynestorage.NewExtensionFileFilter([]string{workspaceExt}))
	dlg.Resize(fyne.NewSize(900, 600))
	dlg.Show()
}

func (d *desktop) alert(title string, err error) {
	if d.shell != nil {
		d.shell.showError(title, err)
		return
	}
	dialog.ShowError(fmt.Errorf("%s: %w", title, err), d.win)
}

// quit stops running work, closes the workspace and the window.
func (d *desktop) quit() {
	shell, studio := d.shell, d.studio
	d.shell, d.studio = nil, nil
	if shell == nil {
		d.win.Close()
		return
	}
	d.win.SetContent(container.NewCenter(widget.NewLabel("Stopping running work and closing the workspace…")))
	go func() {
		shell.Close()
		if err := studio.Close(); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "modelsmith: close the workspace:", err)
		}
		post(d.win.Close)
	}()
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
