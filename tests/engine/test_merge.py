"""Merge fields: rendering, and the sandbox marketers' templates run in."""

import pytest
from jinja2.exceptions import SecurityError

from builder.models import Contact, ContactTag
from engine import merge


def contact(**fields):
    tags = fields.pop("tags", [])
    fields.setdefault("first_name", "Ada")
    fields.setdefault("last_name", "Lovelace")
    fields.setdefault("timezone", "UTC")
    c = Contact(id=7, **fields)
    c.tag_rows.extend(ContactTag(tag=t) for t in tags)
    return c


@pytest.mark.parametrize("template, expected", [
    ("Hi {{ contact.first_name }}!", "Hi Ada!"),
    ("{{ contact.name }} ({{ contact.id }})", "Ada Lovelace (7)"),
    ("no merge fields at all", "no merge fields at all"),
    ("{{ contact.first_name|upper }} {{ contact.last_name[:1] }}.", "ADA L."),
    ("{{ contact.custom.plan }} / {{ contact.plan }}", "gold / gold"),
    ("{{ contact.custom['the plan'] }}", "platinum"),
    ("{{ contact.tags|join(', ') }}", "vip, west"),
    ("{{ contact.tags[0] }}", "vip"),
    ("{% if 'vip' in contact.tags %}VIP{% else %}regular{% endif %}", "VIP"),
    ("{% if contact.custom.score > 40 %}hot{% endif %}", "hot"),
    ("{{ contact.email|default('no email', true) }}", "no email"),
    ("Hi {{ contact.nickname }}!", "Hi !"),
    ("Hi {{ contact.custom.missing.deeper }}!", "Hi !"),
    ("{{ contact.nickname|default('friend') }}", "friend"),
    ("Line one\n", "Line one\n"),
])
def test_render(template, expected):
    c = contact(tags=["vip", "west"], custom_fields={"plan": "gold", "the plan": "platinum", "score": 42})
    assert merge.render(template, c) == expected


def test_custom_field_named_like_a_dict_method_is_the_field():
    assert merge.render("{{ contact.custom.items }}", contact(custom_fields={"items": "3 boxes"})) == "3 boxes"


def test_standard_fields_win_over_custom_fields_of_the_same_name():
    c = contact(custom_fields={"first_name": "Imposter"})
    assert merge.render("{{ contact.first_name }} {{ contact.custom.first_name }}", c) == "Ada Imposter"


def test_methods_of_values_are_not_reachable():
    assert merge.render("{{ contact.first_name.upper }}", contact()) == ""


@pytest.mark.parametrize("template, says", [
    ("{{ contact.__class__ }}", "'__class__' is not allowed"),
    ("{{ ''.__class__.__mro__ }}", "is not allowed"),
    ("{{ contact['__class__'] }}", "'__class__' is not allowed"),
    ("{{ contact._sa_instance_state }}", "is not allowed"),
    ("{{ contact|attr('__class__') }}", "the 'attr' filter is not available"),
    ("{{ contact['__cla' ~ 'ss__'] }}", "only fixed keys"),
    ("{{ contact.first_name.upper() }}", "calling a function or method is not allowed"),
    ("{{ cycler.__init__.__globals__ }}", "is not allowed"),
    ("{{ range(10) }}", "calling a function"),
    ("{{ config }}", "unknown merge field 'config'"),
    ("{{ contct.first_name }}", "unknown merge field 'contct'"),
    ("{% for t in contact.tags %}{{ t }}{% endfor %}", "loop is not allowed"),
    ("{% set x = 1 %}", "{% set %} is not allowed"),
    ("{{ 'ab' * 2000000000 }}", "arithmetic is not allowed"),
    ("{{ 9 ** 9 ** 9 ** 9 }}", "arithmetic is not allowed"),
    ("{{ '%0999999999d' % 1 }}", "arithmetic is not allowed"),
    ("{{ contact.first_name|center(999999999) }}", "the 'center' filter is not available"),
    ("{{ contact.first_name|format(1) }}", "the 'format' filter is not available"),
    ("{% include 'x.html' %}", "{% include %} is not allowed"),
    ("{{ contact.first_name", "line 1:"),
])
def test_unsafe_or_broken_templates_are_rejected_with_a_reason(template, says):
    with pytest.raises(merge.MergeFieldError) as caught:
        merge.check(template)
    assert says in str(caught.value)
    # Rendering the same text (say, from a version stored before a rule existed) fails the same way.
    with pytest.raises(merge.MergeFieldError):
        merge.render(template, contact())


def test_check_does_not_evaluate_anything():
    # Jinja folds constant expressions while compiling; the checks run on the parse tree first,
    # so saving a workflow cannot be made to build a huge value.
    with pytest.raises(merge.MergeFieldError):
        merge.check("{{ 'x' * 10 ** 12 }}")


def test_runtime_sandbox_refuses_private_names_itself():
    # The environment refuses too, not only the save-time check.
    template = merge._env.from_string("{{ contact[key] }}")
    with pytest.raises(SecurityError):
        template.render(contact={"a": 1}, key="__class__")


@pytest.mark.parametrize(("template", "fields", "expected"), [
    ('Hi {{ contact.first_name | default("there") }}!', {"first_name": ""}, "Hi there!"),
    ('Hi {{ contact.first_name | default("there") }}!', {"first_name": None}, "Hi there!"),
    ('Hi {{ contact.first_name | default("there") }}!', {}, "Hi Ada!"),
    ("{{ contact.custom.plan | d('none') }}", {}, "none"),
    ("[{{ contact.custom.plan | default('none', false) }}]", {"custom_fields": {"plan": ""}}, "[]"),
])
def test_default_fills_missing_and_empty_values(template, fields, expected):
    assert merge.render(template, contact(**fields)) == expected


def test_names_lists_each_merge_field_a_template_reads_once_in_order():
    template = ("{% if contact.custom.score > 40 %}{{ contact.first_name | default('there') }}{% endif %} "
                "{{ contact.custom['the plan'] }} {{ contact.tags[0] }} {{ contact.first_name }} "
                "{{ contact.name[:1] }}")
    assert merge.names(template) == [("contact", "custom", "score"), ("contact", "first_name"),
                                     ("contact", "custom", "the plan"), ("contact", "tags"), ("contact", "name")]
    assert merge.names("no merge fields") == []


def test_names_refuses_what_check_refuses():
    with pytest.raises(merge.MergeFieldError):
        merge.names("{{ workflow.s1.output }}")  # steps.<id> is a run variable (engine.step_refs)
