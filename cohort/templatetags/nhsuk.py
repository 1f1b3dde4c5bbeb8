"""Render Django form fields with NHS.UK frontend classes and accessible error wiring."""

from django import forms, template

register = template.Library()

_INPUT_CLASS = {
    forms.Textarea: "nhsuk-textarea",
    forms.Select: "nhsuk-select",
    forms.SelectMultiple: "nhsuk-select",
    forms.CheckboxInput: "nhsuk-checkboxes__input",
    forms.ClearableFileInput: "nhsuk-file-upload",
    forms.FileInput: "nhsuk-file-upload",
}


@register.filter
def widget_kind(field) -> str:
    widget = field.field.widget
    # CheckboxSelectMultiple is a subclass of RadioSelect in Django: ask for it first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    return "input"


@register.filter
def nhsuk_widget(field):
    """The field's widget with the design system's class and aria-describedby set."""
    widget = field.field.widget
    css = next(
        (cls for kind, cls in _INPUT_CLASS.items() if isinstance(widget, kind)), "nhsuk-input"
    )
    if field.errors:
        css += {
            "nhsuk-input": " nhsuk-input--error",
            "nhsuk-textarea": " nhsuk-textarea--error",
            "nhsuk-select": " nhsuk-select--error",
        }.get(css, "")
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-hint")
    if field.errors:
        described.append(f"{field.auto_id}-error")
    attrs = {"class": f"{widget.attrs.get('class', '')} {css}".strip()}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
