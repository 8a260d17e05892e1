{#- The keys of this run's rows that a published row this run keeps already has: together with
    the key test on the model (this run's rows), the stored table stays unique once published,
    without scanning more than the published key columns. `replaced_keys` are the columns of
    int_run_replaced__<table_name>; `table_name` is the model's (dbt renders
    a test before it knows its model's relation). -#}
{% test unique_with_published(model, source_name, table_name, columns, replaced_keys) %}
with

published_rows as (

    select * from {{ source(source_name, table_name) }}

),

replaced as (

    select * from {{ ref('int_run_replaced__' ~ table_name) }}

),

kept as (

    select {{ columns | join(', ') }}
    from published_rows
    anti join replaced
        using ({{ replaced_keys | join(', ') }})

),

this_run as (

    select {{ columns | join(', ') }} from {{ model }}

),

collisions as (

    select this_run.*
    from this_run
    semi join kept
        using ({{ columns | join(', ') }})

)

select * from collisions
{% endtest %}
