{#- Rule 11's completion figures of a title and window (docs/metrics.md, "Title performance"),
    from a relation `figures` with `starters`, `completers` and `repeat_households` joined to
    `titles` (int_titles_current): a title with no content end (never played past 0 s) cannot
    be completed, so its completion figures are unknown (null), not zero. Shared by
    rpt_title_performance and rpt_title_audience_performance. -#}
{% macro completion_figures(figures, titles) -%}
        case when {{ titles }}.content_end_seconds is not null then {{ figures }}.completers end as completers,
        case
            when {{ titles }}.content_end_seconds is not null then {{ figures }}.repeat_households
        end as repeat_households,
        case
            when {{ titles }}.content_end_seconds is not null
                then {{ figures }}.completers / nullif({{ figures }}.starters, 0)
        end as completion_rate,
        case
            when {{ titles }}.content_end_seconds is not null
                then {{ figures }}.repeat_households / nullif({{ figures }}.completers, 0)
        end as repeat_rate
{%- endmacro %}
