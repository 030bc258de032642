package views

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

// exportExt is the file extension each export format gets by default.
var exportExt = map[string]string{"native": ".modelsmith-model", "onnx": ".onnx"}

// exportModelDialog asks which model to export and in which format, then for
// the file, and writes it in the background (File → Export model…).
func (s *Shell) exportModelDialog() {
	s.background(func(ctx context.Context) {
		models, err := s.studio.Models(ctx)
		post(func() {
			if err != nil {
				s.showError("Could not list the models", err)
				return
			}
			if len(models) == 0 {
				dialog.ShowInformation("Export model", "There is no model to export yet: train one first.", s.win)
				return
			}
			sortModelsNewest(models)
			refs := make([]string, len(models))
			for i, m := range models {
				refs[i] = m.Ref
			}
			pick := widget.NewSelect(refs, nil)
			pick.SetSelected(refs[0])
			format := widget.NewRadioGroup(app.ExportFormats, nil)
			format.Horizontal = true
			format.Required = true
			format.SetSelected("native")
			help := widget.NewLabel("native: one checksummed file that any Modelsmith workspace imports back (import-model); " +
				"onnx: the whole pipeline for onnxruntime and other ONNX tools.")
			help.Wrapping = fyne.TextWrapWord
			form := widget.NewForm(widget.NewFormItem("Model", pick), widget.NewFormItem("Format", format))
			d := dialog.NewCustomConfirm("Export model", "Choose file…", "Cancel", container.NewVBox(form, help), func(ok bool) {
				if ok {
					s.exportModelTo(pick.Selected, format.Selected)
				}
			}, s.win)
			d.Resize(fyne.NewSize(560, 260))
			d.Show()
		})
	})
}

// exportModelTo asks for the file and writes model ref in format to it.
func (s *Shell) exportModelTo(ref, format string) {
	save := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			s.showError("Could not export "+ref, err)
			return
		}
		if w == nil {
			return
		}
		path := w.URI().Path()
		w.Close() // ExportModelFile writes through a temporary file renamed over it
		s.exportModel(ref, format, path)
	}, s.win)
	save.SetFileName(strings.ReplaceAll(ref, "@", "-") + exportExt[format])
	save.Resize(fyne.NewSize(900, 600))
	save.Show()
}

// exportModel writes model ref in format to path in the background, with
// the task bar, and says where it went.
func (s *Shell) exportModel(ref, format, path string) {
	if s.task.busy() {
		s.showError("Another job is running", fmt.Errorf("wait for it to finish or cancel it, then export again"))
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.task.start("Exporting "+ref, cancel)
	s.background(func(context.Context) {
		defer cancel()
		info, err := s.studio.ExportModelFile(ctx, ref, format, path)
		post(func() {
			s.task.finish()
			if err != nil {
				s.showError("Could not export "+ref, err)
				return
			}
			dialog.ShowInformation("Model exported", fmt.Sprintf("%s written to %s (%s).", info.Ref, path, format), s.win)
		})
	})
}
