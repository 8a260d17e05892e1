{#- A value this run computed, as a SQL timestamp literal: `aggregate` (e.g. `min(recompute_from)`)
    over `relation`, a model built earlier in the run (pass it with ref(), so dbt orders the
    build and shows the dependency). A constant, unlike a subquery, reaches the lake's scan as a
    filter, so the scan skips the files and row groups outside it. With no rows, `infinity`:
    nothing is after it. At parse time (nothing built yet), in a unit test (its inputs are
    fixtures, not tables) and where the relation was not built (`dbt docs generate`)
    `-infinity`: no bound, the same result read from more files. -#}
{% macro run_bound(relation, aggregate) -%}
    {%- if execute and model.resource_type != 'unit_test' and load_relation(relation) is not none -%}
        {%- set value = run_query("select coalesce(cast(" ~ aggregate ~ " as varchar), 'infinity') from " ~ relation).columns[0].values()[0] -%}
        timestamp '{{ value }}'
    {%- else -%}
        timestamp '-infinity'
    {%- endif -%}
{%- endmacro %}
