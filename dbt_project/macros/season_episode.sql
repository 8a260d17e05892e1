{#- Whether a title (a row of int_titles_current or its published copy) is an episode of a
    season: a season is its series and season number, and its episodes are the titles of type
    `episode` with both (docs/metrics.md, "Seasons"). The one place the rule lives: season
    progress, season performance and the run's changed seasons use it. -#}
{% macro is_season_episode() -%}
    title_type = 'episode'
    and series_title is not null
    and season_number is not null
{%- endmacro %}
