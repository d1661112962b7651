from django import forms
from django.utils.translation import gettext_lazy as _


class CalendarImportForm(forms.Form):
    file = forms.FileField(
        label=_("Official schedule (CSV)"),
        help_text=_(
            "Columns: date, name, type (holiday / adjusted_workday). Each year in the "
            "file replaces that year's days."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        raw = upload.read()
        try:
            self.cleaned_data["text"] = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        return upload
