{{ stg_profiles(source('exports', 'profiles')) }}
