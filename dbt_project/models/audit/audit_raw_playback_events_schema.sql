-- The columns of the raw partitions as loaded (DuckDB's describe), not of their staging view.
with

columns_described as (

    select * from (describe select * from {{ source('exports', 'playback_events') }})  -- noqa: PRS

),

column_signatures as (

    select
        column_name,
        column_name || ' ' || column_type as column_signature

    from columns_described

)

select * from column_signatures
