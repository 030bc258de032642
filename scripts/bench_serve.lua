-- wrk script: POST one adult row per request to /v2/models/a/infer (KServe
-- Open Inference Protocol v2), and count non-2xx answers as errors.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if os.getenv("MODELSMITH_TOKEN") and os.getenv("MODELSMITH_TOKEN") ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("MODELSMITH_TOKEN")
end
wrk.body = [[{"inputs":[
{"name":"age","datatype":"INT64","shape":[1],"data":[39]},
{"name":"workclass","datatype":"BYTES","shape":[1],"data":["State-gov"]},
{"name":"fnlwgt","datatype":"INT64","shape":[1],"data":[77516]},
{"name":"education","datatype":"BYTES","shape":[1],"data":["Bachelors"]},
{"name":"education_num","datatype":"INT64","shape":[1],"data":[13]},
{"name":"marital_status","datatype":"BYTES","shape":[1],"data":["Never-married"]},
{"name":"occupation","datatype":"BYTES","shape":[1],"data":["Adm-clerical"]},
{"name":"relationship","datatype":"BYTES","shape":[1],"data":["Not-in-family"]},
{"name":"race","datatype":"BYTES","shape":[1],"data":["White"]},
{"name":"sex","datatype":"BYTES","shape":[1],"data":["Male"]},
{"name":"capital_gain","datatype":"INT64","shape":[1],"data":[2174]},
{"name":"capital_loss","datatype":"INT64","shape":[1],"data":[0]},
{"name":"hours_per_week","datatype":"INT64","shape":[1],"data":[40]},
{"name":"native_country","datatype":"BYTES","shape":[1],"data":["United-States"]}]}]]

local bad = 0
response = function(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    if bad == 1 then io.stderr:write("first error: " .. status .. " " .. body .. "\n") end
  end
end
