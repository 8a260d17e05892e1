{#- A stored table as it stands once this run is published: its published rows minus those this
    run replaces (every row matching a row of `int_run_replaced__<table>` on that model's
    columns), plus this run's rows (the model itself holds only those). The publish step applies
    exactly this to the lake (src/rewatch/build.py), so what a model reads here is what analysts
    will read. -#}
{% macro after_run(source_name, table_name, key_columns) -%}
    (
        select published_rows.*
        from {{ source(source_name, table_name) }} as published_rows
        anti join {{ ref('int_run_replaced__' ~ table_name) }} as replaced
            on
                {% for column in key_columns -%}
                published_rows.{{ column }} = replaced.{{ column }}{{ " and" if not loop.last }}
                {% endfor %}
        union all by name
        select * from {{ ref(table_name) }}
    )
{%- endmacro %}

{#- The body of `int_run_replaced__<table>`: the keys (`key_columns`) of the published rows whose
    `match_columns` are those of a row of `changes` (from its `from_column` on, by `time_column`,
    when given). With a `time_column`, each row also carries that column: the publish step deletes
    the rows matching all of the columns, and bounds the delete by their earliest time, so that
    the lake skips the files of earlier times (src/rewatch/build.py, `_apply`). -#}
{% macro replaced_rows(published, key_columns, changes, match_columns, time_column=none, from_column=none) -%}
with

-- With a time column, only the published rows from the earliest point a change reaches, a
-- constant (run_bound): the lake's scan skips the files of earlier times.
published_rows as (

    select * from {{ published }}
    {%- if time_column %}
    where {{ time_column }} >= {{ run_bound(changes, 'min(' ~ from_column ~ ')') }}
    {%- endif %}

),

changes as (

    select * from {{ changes }}

),

replaced as (

    select distinct {% for column in key_columns + ([time_column] if time_column and time_column not in key_columns else []) -%}
        published_rows.{{ column }}{{ ", " if not loop.last }}
    {%- endfor %}
    from published_rows
    semi join changes
        on
            {% for column in match_columns -%}
            published_rows.{{ column }} = changes.{{ column }}
            {%- if not loop.last or time_column %} and{% endif %}
            {% endfor -%}
            {%- if time_column -%}
            published_rows.{{ time_column }} >= changes.{{ from_column }}
            {%- endif %}

)

select * from replaced
{%- endmacro %}

{#- The published rows of a stored table that this run replaces: those matching a row of
    `int_run_replaced__<table>` on `key_columns` (what after_run leaves out, and what the
    publish step deletes). With `time_column`, from the replaced rows' earliest time on, a
    constant (run_bound): the lake's scan skips the files of earlier times. -#}
{% macro replaced_published_rows(source_name, table_name, key_columns, time_column=none) -%}
    {%- set replaced_model = ref('int_run_replaced__' ~ table_name) -%}
    (
        select published_rows.*
        from {{ source(source_name, table_name) }} as published_rows
        semi join {{ replaced_model }} as replaced
            on
                {% for column in key_columns -%}
                published_rows.{{ column }} = replaced.{{ column }}{{ " and" if not loop.last }}
                {% endfor %}
        {%- if time_column %}
        where published_rows.{{ time_column }} >= {{ run_bound(replaced_model, 'min(' ~ time_column ~ ')') }}
        {%- endif %}
    )
{%- endmacro %}
