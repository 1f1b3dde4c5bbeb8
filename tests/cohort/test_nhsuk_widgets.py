"""The NHS.UK form rendering: each widget becomes the design system's component."""

from django import forms

from cohort.templatetags.nhsuk import widget_kind


class _Form(forms.Form):
    several = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple
    )
    one = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    tick = forms.BooleanField()
    text = forms.CharField()


def test_each_widget_is_rendered_as_its_component():
    form = _Form()
    # CheckboxSelectMultiple subclasses RadioSelect: it must still be a list of checkboxes,
    # or people could tick only one (the mentor's sectors, the milestones confirmed).
    assert widget_kind(form["several"]) == "checkboxes"
    assert widget_kind(form["one"]) == "radios"
    assert widget_kind(form["tick"]) == "checkbox"
    assert widget_kind(form["text"]) == "input"
