"""The web layer: HTTP routes and handlers over a built service.

    app         create_app(service): routes, nothing else
    routes      path → the handler of each method (the patterns are feedsvc.publish.urls')
    dispatch    every request's one frame: method, guard, exceptions become HTTP responses
    handlers    look up what is ready, add headers; never render a feed themselves
    paging      the feed query parameters, checked strictly
    server      listen() before anything starts; http_server() serves a built service
"""
